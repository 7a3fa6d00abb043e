"""Loading and validating app.yaml, mappings/ and config/ with errors an admin can act on."""

from connector.settings.loader import Settings, load_settings
from connector.settings.problems import ConfigError, Problem
from connector.settings.secrets import MissingSecret, Secrets

__all__ = ["ConfigError", "MissingSecret", "Problem", "Secrets", "Settings", "load_settings"]
