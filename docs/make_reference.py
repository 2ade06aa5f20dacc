"""Write docs/reference.md from the numpydoc docstrings of the estimators and the photo pipeline.

    python docs/make_reference.py
"""

import inspect
from pathlib import Path

import fkp_classic

PUBLIC = ["KeypointRegressor", "CascadeRegressor", "KeypointRidge", "HOGFeatures", "PatchFeatures",
          "MeanKeypoints", "MeanPatchTemplateSearch", "KeypointDetector", "HOGFaceDetector", "read_photo",
          "FaceTracker"]
TARGET = Path(__file__).resolve().parent / "reference.md"


def render():
    parts = ["# Reference\n", "Generated from the docstrings by `python docs/make_reference.py`.\n"]
    for name in PUBLIC:
        cls = getattr(fkp_classic, name)
        signature = str(inspect.signature(cls))
        parts.append(f"## `{name}{signature}`\n\n```text\n{inspect.cleandoc(cls.__doc__)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
