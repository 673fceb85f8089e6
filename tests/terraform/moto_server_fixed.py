"""moto_server with the one fix the Terraform tests need: API Gateway integrations keep their
cacheKeyParameters.

moto 5.2.1's PutIntegration drops `cacheKeyParameters` (its Integration model has the field and
returns it from GetIntegration, always empty), so the module's badge integration, which declares
its cache key, would show as drift on every plan. AWS keeps the list as given; this restores that.
moto has no UpdateIntegration at all, so only creation is concerned.

The server itself is tests/tools/moto_server_atomic.py's: moto's own application with one lock
around each request and a lingering close. Real AWS applies each API call atomically; moto's
handlers are read-modify-writes of shared Python objects, run concurrently by werkzeug's threads.
A destroy that removed two permissions of one function at the same instant left one of them in
moto's policy although both DELETEs were answered 204, and Terraform then waited 5 minutes for it
to go (terraform_moto_rest failed so once, 2026-12-06); with the lock each call is applied whole.
Arguments: -H HOST -p PORT, as moto_server's.

Run with the interpreter moto_server uses: tf_suite.py reads it from moto_server's first line.
"""

import json
import os
import sys

from moto.apigateway import responses

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import moto_server_atomic  # noqa: E402

_put_integration = responses.APIGatewayResponse.put_integration


def put_integration(self):
    status, headers, body = _put_integration(self)
    keys = self._get_param("cacheKeyParameters")
    if keys:
        # /restapis/{api}/resources/{resource}/methods/{method}/integration
        parts = self.path.split("/")
        integration = self.backend.get_integration(parts[2], parts[4], parts[6])
        integration.cache_key_parameters = list(keys)
        body = json.dumps(integration.to_json())
    return status, headers, body


responses.APIGatewayResponse.put_integration = put_integration

if __name__ == "__main__":
    moto_server_atomic.main()
