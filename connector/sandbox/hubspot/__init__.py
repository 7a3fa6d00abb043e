"""A stateful local HubSpot API emulator that the unmodified ``hubspot-api-client`` (v12) works against.

Point the SDK at it with the ``host`` setting; the SDK copies every keyword given to ``HubSpot(...)``
onto each API's ``Configuration``, so ``host=`` reaches every generated client::

    from hubspot import HubSpot
    from connector.sandbox.hubspot import HubSpotSandbox

    sb = HubSpotSandbox(access_token="pat-local").start()
    client = HubSpot(access_token=sb.access_token, host=sb.url)
    client.crm.contacts.basic_api.get_page(limit=10)

For the raw-request helper (``client.api_request``, used for the legacy workflow-enrollment call the
v12 SDK has no generated API for), also pass ``base_url=sb.url``. A single generated client can be
pointed with ``hubspot.crm.contacts.Configuration(host=sb.url, access_token=...)``.

See docs/SANDBOX-hubspot.md for what is emulated, the control API under ``/__sandbox/``, and sources.
"""

from connector.sandbox.hubspot.sandbox import HubSpotSandbox

__all__ = ["HubSpotSandbox"]
