"""moto_server with the one fix the Terraform tests need: API Gateway integrations keep their
cacheKeyParameters.

moto 5.2.1's PutIntegration drops `cacheKeyParameters` (its Integration model has the field and
returns it from GetIntegration, always empty), so the module's badge integration, which declares
its cache key, would show as drift on every plan. AWS keeps the list as given; this restores that.
moto has no UpdateIntegration at all, so only creation is concerned. Everything else is moto's
own server, started with the arguments given (the same as moto_server's).

Run with the interpreter moto_server uses: tf_suite.py reads it from moto_server's first line.
"""

import json
import sys

from moto.apigateway import responses
from moto.server import main

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
    sys.exit(main(sys.argv[1:]))
