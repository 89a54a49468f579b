"""API Gateway TOKEN authorizer: an API key becomes its tenant and role in the request context."""

from aws_lambda_powertools import Logger

from bulkimport import config
from bulkimport.access.keys import authenticate, bearer_token


class Settings(config.Tables):
    pass


settings = config.load(Settings)  # cold start: a missing setting fails here, naming it

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event, context):
    principal = authenticate(bearer_token(event.get("authorizationToken")))
    if principal is None:
        # API Gateway answers 401 (the UNAUTHORIZED gateway response) for exactly this message.
        raise Exception("Unauthorized")
    # Allow every method of this API and stage; the routes check the role themselves.
    arn_parts = event["methodArn"].split("/")
    resource = "/".join(arn_parts[:2]) + "/*"
    return {
        "principalId": principal.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}],
        },
        "context": {"tenant": principal.tenant, "role": principal.role, "key_id": principal.key_id},
    }
