"""S3's browser-based uploads (POST Object) checked as S3 checks them, in front of moto.

moto stores whatever a POST form sends: a `key` changed to another tenant's upload, an empty file, a
file over the size the policy allows, a policy long expired or a signature that does not match. On
AWS the signed POST policy refuses all of these, so the local stack checks a form the same way before
moto sees it, and answers with S3's status and XML error:

- the signature (SigV4 `x-amz-signature` or SigV2 `signature`) over the base64 policy, with the
  stack's credentials: 403 SignatureDoesNotMatch / InvalidAccessKeyId;
- the policy's `expiration`: 403 AccessDenied "Invalid according to Policy: Policy expired.";
- every condition: exact match (`{"field": value}`, `["eq", "$field", value]`), `starts-with`
  (`$bucket` is the request's bucket) and `content-length-range` over the file's size: 403
  AccessDenied "... Policy Condition failed: [...]", 400 EntityTooSmall / EntityTooLarge;
- every form field but the signature, `policy`, `file` and `x-ignore-*` is named by a condition:
  403 AccessDenied "... Extra input fields: <field>".

As on S3, fields are matched by name ignoring case, and fields after the file are not part of the
form. A POST without a policy is an anonymous write, which a private bucket refuses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from multipart import MultipartError, PushMultipartParser, parse_options_header
from werkzeug.wsgi import get_input_stream

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
_BUCKET_PATH = re.compile(r"^/(?P<bucket>[^/]+)/?$")
# Fields a policy does not have to name (SigV4 and SigV2 spellings).
_UNCONDITIONED = {"policy", "file", "x-amz-signature", "signature", "awsaccesskeyid"}


class S3Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, **details: object):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def xml(self) -> bytes:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>local</HostId></Error>"
        ).encode()


def _denied(message: str) -> S3Refusal:
    return S3Refusal(403, "AccessDenied", message)


def _invalid_policy(message: str) -> S3Refusal:
    return S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: {message}")


class PostPolicyCheck:
    """WSGI middleware: a POST Object request to a bucket reaches `app` only when S3 would accept it.
    `credentials` maps the access key ids the stack knows to their secret keys."""

    def __init__(self, app: WsgiApp, credentials: Mapping[str, str], clock: Callable[[], datetime] | None = None):
        self.app = app
        self.credentials = dict(credentials)
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        bucket = _browser_post_bucket(environ)
        if bucket is None:
            return self.app(environ, start_response)
        body = get_input_stream(environ).read()
        # moto reads the same body after us.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        try:
            fields, file_size = read_form(body, environ.get("CONTENT_TYPE", ""))
            self.check(bucket, fields, file_size)
        except S3Refusal as refusal:
            xml = refusal.xml()
            start_response(
                f"{refusal.status} {_REASONS[refusal.status]}",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(xml)))],
            )
            return [xml]
        return self.app(environ, start_response)

    def check(self, bucket: str, fields: dict[str, list[str]], file_size: int) -> None:
        """Refuse (S3Refusal) what S3 refuses; `fields` by lower-cased name, those before the file."""
        if "key" not in fields:
            raise S3Refusal(
                400,
                "InvalidArgument",
                "Bucket POST must contain a field named 'key'.  "
                "If it is specified, please check the order of the fields.",
                ArgumentName="key",
                ArgumentValue="",
            )
        if "policy" not in fields:
            raise _denied("Access Denied")  # anonymous: the bucket is private
        policy_text = fields["policy"][0]
        self._check_signature(fields, policy_text)
        policy = _decode(policy_text)
        expiration = _expiration(policy)
        if self.clock() >= expiration:
            raise _denied("Invalid according to Policy: Policy expired.")
        conditions = policy.get("conditions")
        if not isinstance(conditions, list):
            raise _invalid_policy("Invalid 'conditions' value: must be a List.")
        named: set[str] = set()
        length_range: tuple[int, int] | None = None
        for condition in conditions:
            if isinstance(condition, dict):
                if len(condition) != 1:
                    raise _invalid_policy(
                        "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
                    )
                ((name, expected),) = condition.items()
                named.add(name.lower())
                _check_match("eq", name.lower(), expected, bucket, fields, ["eq", f"${name}", expected])
            elif isinstance(condition, list) and condition and isinstance(condition[0], str):
                operation = condition[0].lower()
                if operation == "content-length-range":
                    length_range = _length_range(condition)
                    continue
                if operation not in ("eq", "starts-with"):
                    raise _invalid_policy(f"Invalid Condition: unknown operation '{condition[0]}'.")
                if len(condition) != 3 or not isinstance(condition[1], str) or not condition[1].startswith("$"):
                    raise _invalid_policy(f"Invalid {condition[0]}: wrong number of arguments.")
                name = condition[1][1:].lower()
                named.add(name)
                _check_match(operation, name, condition[2], bucket, fields, condition)
            else:
                raise _invalid_policy("Invalid condition test: must be a List or Object.")
        extra = [name for name in fields if name not in named and name not in _UNCONDITIONED]
        extra = [name for name in extra if not name.startswith("x-ignore-")]
        if extra:
            raise _denied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
        if length_range is not None:
            low, high = length_range
            if file_size < low:
                raise S3Refusal(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=file_size,
                    MinSizeAllowed=low,
                )
            if file_size > high:
                raise S3Refusal(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    ProposedSize=file_size,
                    MaxSizeAllowed=high,
                )

    def _check_signature(self, fields: dict[str, list[str]], policy_text: str) -> None:
        if "x-amz-signature" in fields:  # SigV4
            credential = fields.get("x-amz-credential", [""])[0]
            parts = credential.split("/")
            if len(parts) != 5 or fields.get("x-amz-algorithm", [""])[0] != "AWS4-HMAC-SHA256":
                raise S3Refusal(
                    400,
                    "InvalidArgument",
                    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
                    ArgumentName="X-Amz-Credential",
                    ArgumentValue=credential,
                )
            access_key, date, region, service, terminal = parts
            key = ("AWS4" + self._secret(access_key)).encode()
            for step in (date, region, service, terminal):
                key = hmac.new(key, step.encode(), hashlib.sha256).digest()
            expected = hmac.new(key, policy_text.encode(), hashlib.sha256).hexdigest()
            given = fields["x-amz-signature"][0]
        elif "signature" in fields:  # SigV2
            secret = self._secret(fields.get("awsaccesskeyid", [""])[0])
            digest = hmac.new(secret.encode(), policy_text.encode(), hashlib.sha1).digest()
            expected, given = base64.b64encode(digest).decode(), fields["signature"][0]
        else:
            raise _denied("Access Denied")
        if not hmac.compare_digest(expected.encode(), given.encode()):  # any text a client sends
            raise S3Refusal(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )

    def _secret(self, access_key: str) -> str:
        if access_key not in self.credentials:
            raise S3Refusal(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=access_key,
            )
        return self.credentials[access_key]


def _browser_post_bucket(environ: dict) -> str | None:
    """The bucket of a POST Object request (multipart/form-data to a bucket's path), else None."""
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
        return None
    if not environ.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data"):
        return None
    match = _BUCKET_PATH.match(environ.get("PATH_INFO", ""))
    return match["bucket"] if match else None


def read_form(body: bytes, content_type: str) -> tuple[dict[str, list[str]], int]:
    """The form's fields before the file ({lower-cased name: values}) and the file's size."""
    _, options = parse_options_header(content_type)
    malformed = S3Refusal(
        400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
    )
    if not options.get("boundary"):
        raise malformed
    fields: dict[str, list[str]] = {}
    current: bytearray | None = None
    name, file_size = "", 0
    try:
        parser = PushMultipartParser(options["boundary"], len(body))
        for event in parser.parse(body):
            if event is None:  # the end of a part
                if name == "file":
                    return fields, file_size  # S3 reads no field after the file
                fields.setdefault(name, []).append((current or b"").decode("utf-8", "replace"))
                current = None
            elif isinstance(event, (bytes, bytearray)):
                if name == "file":
                    file_size += len(event)
                else:
                    (current := current or bytearray()).extend(event)
            else:  # a part starts
                name = (event.name or "").lower()
                current, file_size = bytearray(), 0
        parser.close()
    except MultipartError:
        raise malformed from None
    raise S3Refusal(
        400,
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
        ArgumentName="file",
        ArgumentValue="0",
    )


def _decode(policy_text: str) -> dict:
    try:
        raw = base64.b64decode(policy_text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid_policy("invalid Base64 encoding.") from None
    try:
        policy = json.loads(raw)
    except ValueError:
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(policy, dict):
        raise _invalid_policy("Invalid JSON.")
    return policy


def _expiration(policy: dict) -> datetime:
    value = policy.get("expiration")
    if not isinstance(value, str):
        raise _invalid_policy("Policy missing expiration.")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_policy(f"Invalid 'expiration' value: '{value}'") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _length_range(condition: list) -> tuple[int, int]:
    if len(condition) != 3 or not all(isinstance(bound, int) for bound in condition[1:]):
        raise _invalid_policy("Invalid content-length-range: wrong number of arguments.")
    return condition[1], condition[2]


def _check_match(
    operation: str, name: str, expected: object, bucket: str, fields: dict[str, list[str]], condition: list
) -> None:
    if not isinstance(expected, str):
        raise _invalid_policy("Invalid Simple-Condition: value must be a string.")
    values = [bucket] if name == "bucket" else fields.get(name, [""])
    ok = all(value == expected if operation == "eq" else value.startswith(expected) for value in values)
    if not ok:
        raise _denied(f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")


_REASONS = {400: "Bad Request", 403: "Forbidden"}
