"""The installed fkp_classic version (read by setup.cfg and by model files)."""

__version__ = "0.4.0"
