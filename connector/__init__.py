"""Nurture Connector: HubSpot <-> Salesforce sync with a lead-nurture brain."""

__version__ = "0.1.0"
