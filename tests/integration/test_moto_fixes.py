"""The local stack's narrowed moto calls (devstack.moto_fixes) answer as moto's own do: a cancelled
transaction still rolls back everything it did, and a key query still sees its whole partition.
Against the running stack (its moto is this process's): moto's mock_aws here would take over the
stack's own calls."""

import io
import json
import uuid

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from devstack.moto_fixes import DynamoDirect
from devstack.transport import InProcessTransport, RawBody


@pytest.fixture
def ddb(stack):
    client = boto3.client("dynamodb")
    suffix = uuid.uuid4().hex[:8]
    names = {"ranged": f"ranged-{suffix}", "hashed": f"hashed-{suffix}"}
    for name, keys in (("ranged", ("pk", "sk")), ("hashed", ("pk",))):
        client.create_table(
            TableName=names[name],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"))],
        )
    for n in range(50):
        client.put_item(
            TableName=names["ranged"], Item={"pk": {"S": f"p{n % 5}"}, "sk": {"S": f"s{n}"}, "count": {"N": "1"}}
        )
        client.put_item(TableName=names["hashed"], Item={"pk": {"S": f"h{n}"}, "count": {"N": "1"}})
    yield client, names
    for name in names.values():
        client.delete_table(TableName=name)


def _items(ddb, table: str) -> list[dict]:
    client, names = ddb
    return sorted(
        client.scan(TableName=names[table])["Items"],
        key=lambda item: (item["pk"]["S"], item.get("sk", {}).get("S", "")),
    )


def _transaction(names: dict, last_condition: str) -> list[dict]:
    actions = [
        {
            "Update": {
                "TableName": "ranged",
                "Key": {"pk": {"S": "p1"}, "sk": {"S": "s1"}},
                "UpdateExpression": "SET #c = :two",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        },
        {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "p1"}, "sk": {"S": "new"}}}},
        {"Delete": {"TableName": "hashed", "Key": {"pk": {"S": "h3"}}}},
        {
            "Update": {
                "TableName": "hashed",
                "Key": {"pk": {"S": "h4"}},
                "UpdateExpression": "ADD #c :two",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        },
        {"ConditionCheck": {"TableName": "hashed", "Key": {"pk": {"S": "h5"}}, "ConditionExpression": last_condition}},
    ]
    for action in actions:
        (operation,) = action.values()
        operation["TableName"] = names[operation["TableName"]]
    return actions


def test_a_cancelled_transaction_leaves_every_table_as_it_was(ddb):
    before = {table: _items(ddb, table) for table in ("ranged", "hashed")}
    client, names = ddb
    ranged = names["ranged"]
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name].tables
    untouched = tables[ranged].items[next(iter(tables[ranged].items))]  # a partition the transaction does not name
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=_transaction(names, "attribute_not_exists(pk)")
        )  # h5 exists: fails last
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert {table: _items(ddb, table) for table in ("ranged", "hashed")} == before
    # Items the transaction did not name were shared with the rollback copy, not copied.
    restored = tables[ranged].items[next(iter(tables[ranged].items))]
    assert all(restored[key] is item for key, item in untouched.items())


def test_a_transaction_that_passes_applies_every_part(ddb):
    client, names = ddb
    client.transact_write_items(TransactItems=_transaction(names, "attribute_exists(pk)"))
    ranged = {(i["pk"]["S"], i["sk"]["S"]): i for i in _items(ddb, "ranged")}
    hashed = {i["pk"]["S"]: i for i in _items(ddb, "hashed")}
    assert ranged[("p1", "s1")]["count"] == {"N": "2"} and ("p1", "new") in ranged and len(ranged) == 51
    assert "h3" not in hashed and hashed["h4"]["count"] == {"N": "3"} and len(hashed) == 49


def test_a_key_query_reads_its_whole_partition_in_order(ddb):
    client, names = ddb
    pages, kwargs = (
        [],
        {
            "TableName": names["ranged"],
            "KeyConditionExpression": "pk = :p",
            "Limit": 3,
            "ExpressionAttributeValues": {":p": {"S": "p2"}},
        },
    )
    while True:
        page = client.query(**kwargs)
        pages += [item["sk"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert pages == sorted(f"s{n}" for n in range(2, 50, 5))


def test_items_are_still_held_to_the_size_limit(ddb):
    client, names = ddb
    client.put_item(TableName=names["hashed"], Item={"pk": {"S": "big"}, "a": {"S": "x" * 200_000}})
    too_big = {"pk": {"S": "too-big"}, "a": {"S": "x" * 200_000}, "b": {"S": "y" * 205_000}}
    with pytest.raises(ClientError) as refused:
        client.put_item(TableName=names["hashed"], Item=too_big)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        client.batch_write_item(RequestItems={names["hashed"]: [{"PutRequest": {"Item": too_big}}]})
    stored = client.get_item(TableName=names["hashed"], Key={"pk": {"S": "big"}})["Item"]
    assert len(stored["a"]["S"]) == 200_000
    assert "Item" not in client.get_item(TableName=names["hashed"], Key={"pk": {"S": "too-big"}})


def test_the_same_condition_with_other_values_is_judged_by_its_own_values(ddb):
    # A condition's tokens and a write's two parses are reused (devstack.moto_fixes); its values are not.
    client, names = ddb
    put = {"TableName": names["hashed"], "ConditionExpression": "attribute_not_exists(pk) OR #o = :mine"}
    client.put_item(
        **put,
        Item={"pk": {"S": "key"}, "owner": {"S": "a"}},
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":mine": {"S": "a"}},
    )
    for owner, allowed in (("a", True), ("b", False), ("a", True), ("b", False)):
        values = {":mine": {"S": owner}}
        try:
            client.put_item(
                **put,
                Item={"pk": {"S": "key"}, "owner": {"S": "a"}},
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException" and not allowed
        else:
            assert allowed
    # A name the condition does not use is still refused, on the reused parse too.
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            client.put_item(
                **put,
                Item={"pk": {"S": "key"}},
                ExpressionAttributeNames={"#o": "owner", "#x": "x"},
                ExpressionAttributeValues={":mine": {"S": "a"}},
            )
        assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_dynamodb_answers_directly_with_its_own_errors_and_headers(ddb):
    # DynamoDB requests skip moto's Flask app (devstack.moto_fixes.DynamoDirect): same answers.
    client, names = ddb
    answer = client.get_item(TableName=names["hashed"], Key={"pk": {"S": "h1"}})
    assert answer["Item"]["count"] == {"N": "1"}
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"].startswith("application/x-amz-json-1.0") and "x-amzn-requestid" in headers
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_item(TableName="no-such-table", Key={"pk": {"S": "h1"}})
    with pytest.raises(ClientError) as invalid:
        client.put_item(TableName=names["hashed"], Item={"sk": {"S": "no pk"}})
    assert invalid.value.response["Error"]["Code"] == "ValidationException"


def test_a_write_that_returns_nothing_answers_an_empty_object_with_its_own_request_id(ddb):
    # An empty result skips moto's walk of the output shape, and request ids are drawn at once
    # (devstack.moto_fixes): the same answers, each with an id of its own.
    client, names = ddb
    item = {"pk": {"S": "h9"}, "count": {"N": "3"}}
    answers = [client.put_item(TableName=names["hashed"], Item=item) for _ in range(3)]
    ids = set()
    for answer in answers:
        metadata = answer.pop("ResponseMetadata")
        assert answer == {}
        ids.add(metadata["RequestId"])
        assert metadata["HTTPHeaders"]["content-type"].startswith("application/x-amz-json-1.0")
    assert len(ids) == 3 and all(len(i) == 52 and i.isascii() and i.isalnum() for i in ids)
    # What is not empty is still answered by moto's serializer.
    old = client.put_item(TableName=names["hashed"], Item=item, ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL")
    assert old["Attributes"] == item and old["ConsumedCapacity"]["TableName"] == names["hashed"]


class _ThroughWerkzeug(DynamoDirect):
    """DynamoDirect as it answers a request it does not take as botocore's plain JSON."""

    @staticmethod
    def _from_botocore(environ: dict) -> bool:
        return False


@pytest.mark.parametrize("kind", ["item", "missing table", "failed condition", "batch"])
def test_a_plain_json_request_is_answered_as_werkzeug_would(ddb, stack, kind):
    # DynamoDirect sets what werkzeug would find out of a botocore request (no form, its body, its
    # URL) and writes the answer itself: status, headers and body as werkzeug's response gives them.
    client, names = ddb
    call = {
        "item": ("get_item", {"TableName": names["hashed"], "Key": {"pk": {"S": "h1"}}}),
        "missing table": ("get_item", {"TableName": "no-such-table", "Key": {"pk": {"S": "h1"}}}),
        "failed condition": (
            "put_item",
            {
                "TableName": names["hashed"],
                "Item": {"pk": {"S": "h2"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        ),
        "batch": (
            "batch_write_item",
            {"RequestItems": {names["hashed"]: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]}},
        ),
    }[kind]
    prepared = []

    def keep(request, **_kwargs):
        prepared.append(request)
        return AWSResponse(request.url, 200, {}, RawBody(b"{}"))  # not sent: answered below, twice

    client.meta.events.register_first("before-send", keep)
    try:
        getattr(client, call[0])(**call[1])
    finally:
        client.meta.events.unregister("before-send", keep)
    (request,) = prepared
    answers = []
    for app in (DynamoDirect(None), _ThroughWerkzeug(None)):
        transport = InProcessTransport(stack.aws_endpoint, app)
        with stack.aws._moto_lock:  # as the stack serves AWS calls: one at a time
            status, headers, body = transport.serve(request.method, request.url, request.headers.items(), request.body)
        varying = ("x-amzn-requestid", "x-amz-crc32", "date")
        answers.append((status, {k.lower(): v for k, v in headers.items() if k.lower() not in varying}, body))
    assert answers[0] == answers[1]
    assert answers[0][0] == (200 if kind in ("item", "batch") else 400)


def test_an_update_applies_and_fails_as_moto_does_without_its_copies(ddb):
    # An update that returns nothing skips moto's copies and JSON images of the item (devstack.moto_fixes).
    client, names = ddb
    key = {"pk": {"S": "h7"}}
    update = {
        "TableName": names["hashed"],
        "Key": key,
        "UpdateExpression": "ADD #c :one SET #n = :n",
        "ExpressionAttributeNames": {"#c": "count", "#n": "note"},
    }
    client.update_item(**update, ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"S": "a"}})
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            **update,
            ConditionExpression="#c = :one",
            ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"S": "b"}},
        )
    # The failed update changed nothing, and items read back whole after it.
    assert client.get_item(TableName=names["hashed"], Key=key)["Item"] == {
        "pk": {"S": "h7"},
        "count": {"N": "2"},
        "note": {"S": "a"},
    }
    old = client.update_item(
        **update, ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"S": "c"}}, ReturnValues="UPDATED_OLD"
    )
    assert old["Attributes"] == {"count": {"N": "2"}, "note": {"S": "a"}}


def test_a_byte_range_of_an_object_reads_as_moto_reads_it(stack):
    # A closed range is sliced from the stored object (devstack.moto_fixes), other ranges by moto.
    s3 = boto3.client("s3")
    bucket = stack.resource_name("DataBucket")
    key = f"work/moto-fixes/{uuid.uuid4().hex}"
    body = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    for spec, first, last in (
        ("100-355", 100, 355),
        ("0-0", 0, 0),
        ("10000-99999", 10000, 10239),
        ("-16", 10224, 10239),
    ):
        got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={spec}")
        assert got["Body"].read() == body[first : last + 1]
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(body)}" and got["ContentLength"] == last - first + 1
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket=bucket, Key=key, Range="bytes=20000-20001")
    assert beyond.value.response["Error"]["Code"] == "InvalidRange"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body  # whole objects read whole


def test_items_of_every_attribute_type_read_back_as_written(ddb):
    # Plain attribute values are answered as stored (devstack.moto_fixes); binary ones by moto.
    client, names = ddb
    item = {
        "pk": {"S": "every-type"},
        "s": {"S": "文字"},
        "n": {"N": "12.5"},
        "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "plain": {"M": {"x": {"L": [{"S": "y"}, {"N": "3"}, {"M": {}}]}}},
        "nested_binary": {"M": {"x": {"L": [{"B": b"\x03"}]}}},
    }
    client.put_item(TableName=names["hashed"], Item=item)
    key = {"pk": item["pk"]}
    assert client.get_item(TableName=names["hashed"], Key=key)["Item"] == item
    batch = client.batch_get_item(RequestItems={names["hashed"]: {"Keys": [key]}})
    assert batch["Responses"][names["hashed"]] == [item]
    scanned = client.scan(
        TableName=names["hashed"], ScanFilter={"pk": {"AttributeValueList": [item["pk"]], "ComparisonOperator": "EQ"}}
    )
    assert scanned["Items"] == [item]
    # Without binary, a whole item (and a list of items) is answered as stored.
    plain = {k: v for k, v in item.items() if k not in ("b", "bs", "nested_binary")} | {"pk": {"S": "plain-type"}}
    client.put_item(TableName=names["hashed"], Item=plain)
    key = {"pk": plain["pk"]}
    assert client.get_item(TableName=names["hashed"], Key=key)["Item"] == plain
    batch = client.batch_get_item(RequestItems={names["hashed"]: {"Keys": [key, {"pk": item["pk"]}]}})
    assert sorted(batch["Responses"][names["hashed"]], key=lambda i: i["pk"]["S"]) == [item, plain]
    queried = client.query(
        TableName=names["hashed"], KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": plain["pk"]}
    )
    assert queried["Items"] == [plain] and queried["Count"] == 1


def test_item_requests_read_as_json_are_what_moto_parses(stack, tenant):
    """The DynamoDB requests of an import (claims, batches, updates, reads), recorded as the stack
    serves them: each one read as plain JSON is what moto's own parser makes of it; a request with a
    binary attribute is left to moto's parser (it base64-decodes them)."""
    from moto.core.parse import JSONParser
    from moto.core.responses import get_service_model

    from devstack.moto_fixes import plain_json_request

    seen: list[tuple[str, bytes]] = []
    recording = [True]  # the middleware stays for the session: it records during this test only

    def record(app):
        def middleware(environ, start_response):
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if recording[0] and target.startswith("DynamoDB_20120810."):
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                seen.append((target.split(".", 1)[1], body))
            return app(environ, start_response)

        return middleware

    stack.aws.wrap_moto(record)
    try:
        _make_item_requests(stack, tenant)
    finally:
        recording[0] = False
    service = get_service_model("dynamodb")
    plain = [(action, body) for action, body in seen if plain_json_request(action, body)]
    assert {"PutItem", "BatchWriteItem", "UpdateItem", "GetItem", "BatchGetItem", "Query"} <= {a for a, _ in plain}
    for action, body in plain:
        parsed = JSONParser(service.operation_model(action), map_type=dict).parse(
            {"method": "POST", "values": {}, "headers": {}, "body": body, "url_path": "/", "url_params": {}}
        )
        assert json.loads(body) == parsed, action
    assert any(b'{"S": "B"}' in body for _, body in plain)  # a string "B" is no binary attribute
    for binary in ({"b": {"B": "AAE="}}, {"b": {"BS": ["AAE="]}}, {"m": {"M": {"x": {"B": "AAE="}}}}):
        assert not plain_json_request("PutItem", json.dumps({"TableName": "t", "Item": binary}).encode())


def _make_item_requests(stack, tenant) -> None:
    """An import into a table with a unique field (claims, conditional puts, updates, reads), a
    filtered read, and the batch calls other imports and jobs make."""
    from tests.helpers import csv_bytes
    from tests.samples import HEADER, good_row, setup_contacts

    recipe = setup_contacts(tenant.admin)
    content = csv_bytes([HEADER, *[good_row(n) for n in range(1, 201)], good_row(3)])
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content)["id"])
    tenant.viewer.ok("GET", "/tables/contacts/records", params={"filter.membership_no": "M000007"})
    assert done["success_count"] == 200
    client = boto3.client("dynamodb")
    table = stack.resource_name("RecordsTable")
    item = {
        "pk": {"S": f"x-{uuid.uuid4()}"},
        "sk": {"S": "x"},
        "n": {"N": "1"},
        "m": {"M": {"l": {"L": [{"NULL": True}]}}},
    }
    client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}}]})
    client.batch_get_item(
        RequestItems={table: {"Keys": [{"pk": item["pk"], "sk": item["sk"]}], "ConsistentRead": True}}
    )


@pytest.mark.parametrize("word", ["name", "Size", "STATUS"])
def test_a_reserved_word_in_an_expression_is_still_refused(ddb, word):
    """Reserved words are looked up in a set now: any case of one is refused as AWS refuses it, and
    the same name behind an expression attribute name is accepted."""
    client, names = ddb
    item = {"pk": {"S": "h-reserved"}, "count": {"N": "1"}}
    with pytest.raises(ClientError, match="reserved keyword"):
        client.put_item(TableName=names["hashed"], Item=item, ConditionExpression=f"attribute_not_exists({word})")
    client.put_item(
        TableName=names["hashed"],
        Item=item,
        ConditionExpression="attribute_not_exists(#w)",
        ExpressionAttributeNames={"#w": word},
    )


@pytest.mark.parametrize(
    ("condition", "values", "allowed"),
    [
        ("#n BETWEEN :lo AND :hi", {":lo": {"N": "1"}, ":hi": {"N": "9"}}, True),
        ("#n BETWEEN :lo AND :hi", {":lo": {"N": "6"}, ":hi": {"N": "9"}}, False),
        ("#o IN (:a, :b)", {":a": {"S": "x"}, ":b": {"S": "a"}}, True),
        ("#o IN (:a, :b)", {":a": {"S": "x"}, ":b": {"S": "y"}}, False),
        ("#o = :a", {":a": {"S": "a"}}, True),
        ("#o = :a", {":a": {"N": "5"}}, False),  # the same text with a value of another kind
        ("#n = :a", {":a": {"N": "5"}}, True),
        ("size(#t) > :n AND contains(#t, :v)", {":n": {"N": "1"}, ":v": {"S": "b"}}, True),
        ("size(#t) > :n AND contains(#t, :v)", {":n": {"N": "1"}, ":v": {"S": "z"}}, False),
        ("#m = :m", {":m": {"M": {"k": {"L": [{"S": "v"}]}}}}, True),
        ("#m = :m", {":m": {"M": {"k": {"L": [{"S": "w"}]}}}}, False),
    ],
)
def test_a_condition_parsed_once_is_judged_by_each_requests_values(ddb, condition, values, allowed):
    """Condition trees are parsed once per text, names and kinds of values, with each request's
    values bound into a copy (devstack.moto_fixes): every kind, operator and function still judges
    the values it is sent. Each case runs twice, so the second one reuses the parsed tree."""
    client, names = ddb
    stored = {
        "pk": {"S": "judged"},
        "owner": {"S": "a"},
        "n": {"N": "5"},
        "tags": {"L": [{"S": "a"}, {"S": "b"}]},
        "meta": {"M": {"k": {"L": [{"S": "v"}]}}},
    }
    client.put_item(TableName=names["hashed"], Item=stored)
    attribute_names = {"#o": "owner", "#n": "n", "#t": "tags", "#m": "meta"}
    used = {name: value for name, value in attribute_names.items() if name in condition}
    for _ in range(2):
        try:
            client.put_item(
                TableName=names["hashed"],
                Item=stored,
                ConditionExpression=condition,
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException" and not allowed
        else:
            assert allowed


def test_requests_to_the_stack_carry_their_callers_scope_without_a_signature(stack):
    """moto checks no signature, so none is computed for a request to the stack
    (devstack.transport.sign_without_signatures): moto still reads the caller's region (and account)
    from the credential scope. S3's requests are still signed."""
    session = boto3.Session(region_name="eu-west-1")
    headers: dict[str, str] = {}

    def keep_authorization(request, **_kwargs):  # headers are bytes once botocore prepared them
        headers[request.headers.get("X-Amz-Target", b"s3").decode()] = request.headers["Authorization"].decode()

    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    for client in (dynamodb, s3):
        client.meta.events.register_first("before-send", keep_authorization)
    name = f"scoped-{uuid.uuid4().hex[:8]}"
    arn = dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )["TableDescription"]["TableArn"]
    try:
        assert arn.startswith(f"arn:aws:dynamodb:eu-west-1:{DEFAULT_ACCOUNT_ID}:table/")
        assert name not in boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]
        s3.list_buckets()
        (table_call,) = [value for key, value in headers.items() if key.endswith("CreateTable")]
        key = session.get_credentials().access_key
        assert table_call.startswith(f"AWS4-HMAC-SHA256 Credential={key}/")
        assert "/eu-west-1/dynamodb/aws4_request," in table_call and table_call.endswith("Signature=UNSIGNED")
        (bucket_call,) = [value for key, value in headers.items() if key.endswith("s3")]
        signature = bucket_call.rsplit("Signature=", 1)[1]
        assert len(signature) == 64 and int(signature, 16) >= 0
    finally:
        dynamodb.delete_table(TableName=name)
