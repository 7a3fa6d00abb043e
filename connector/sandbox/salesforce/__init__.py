"""A local Salesforce org: REST API (sObjects, SOQL, collections), OAuth and outbound messages over HTTPS.

See docs/SANDBOX-salesforce.md for what is emulated and what is not.
"""

from connector.sandbox.salesforce.convert import Conversion
from connector.sandbox.salesforce.sandbox import SalesforceSandbox

__all__ = ["Conversion", "SalesforceSandbox"]
