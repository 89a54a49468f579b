"""The local stack's fixes of moto (devstack.moto_fixes) answer as moto's own code does: each test
runs the same calls on the session's stack (fixes on) and on a stack started with --stock-moto
(moto as released, `stock_stack`), and compares the answers, errors and stored items. Against the
running stacks (the fixed one's moto is this process's): moto's mock_aws here would take over the
stack's own calls."""

import hashlib
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from devstack.moto_fixes import DynamoDirect, replaced
from devstack.transport import InProcessTransport, RawBody


@dataclass
class Side:
    """One stack's side of a comparison: its DynamoDB and S3 clients, and the test's table names."""

    label: str
    client: object
    s3: object
    names: dict


# An answer is compared as it first comes: a 5xx is not retried (botocore would back off for it, on
# both sides alike, for over a minute).
ONE_ATTEMPT = Config(retries={"mode": "standard", "max_attempts": 1})


def _clients(endpoint: str | None) -> tuple:
    if endpoint is None:  # the session's stack: in-process, fixes on
        return boto3.client("dynamodb", config=ONE_ATTEMPT), boto3.client("s3", config=ONE_ATTEMPT)
    settings = {
        "config": ONE_ATTEMPT,
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    return boto3.client("dynamodb", **settings), boto3.client("s3", **settings)


@pytest.fixture
def sides(stack, stock_stack):
    """The same two tables, with the same 50 items each, on both stacks: [fixed, stock]."""
    suffix = uuid.uuid4().hex[:8]
    names = {"ranged": f"ranged-{suffix}", "hashed": f"hashed-{suffix}"}
    made = []
    for label, endpoint in (("fixed", None), ("stock", stock_stack.aws)):
        client, s3 = _clients(endpoint)
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
        made.append(Side(label, client, s3, names))
    yield made
    for side in made:
        for name in names.values():
            side.client.delete_table(TableName=name)


def both(sides: list[Side], scenario) -> object:
    """scenario(side) on the fixed stack and on the stock one: the same answer, which is returned."""
    fixed, stock = (scenario(side) for side in sides)
    assert fixed == stock, f"fixed: {fixed!r}\nstock: {stock!r}"
    return fixed


def answer(call, **kwargs) -> tuple:
    """A call's answer without its request's own metadata, or its error's code and message."""
    try:
        result = call(**kwargs)
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"].get("Message"))
    result.pop("ResponseMetadata", None)
    return ("ok", result)


def _items(side: Side, table: str) -> list[dict]:
    return sorted(
        side.client.scan(TableName=side.names[table])["Items"],
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


def test_the_fixes_installed_are_the_ones_listed(stack):
    """What the session's stack replaced of moto, botocore, Powertools and the standard library: each
    one is held to stock moto's answers below (with --stock-moto none is: tests/acceptance)."""
    assert replaced() == sorted(
        [
            "aws_lambda_powertools.event_handler.api_gateway.ApiGatewayResolver.context",
            "aws_lambda_powertools.event_handler.api_gateway.ApiGatewayResolver.current_event",
            "aws_lambda_powertools.event_handler.api_gateway.ApiGatewayResolver.lambda_context",
            "aws_lambda_powertools.event_handler.api_gateway.ApiGatewayResolver.processed_stack_frames",
            "aws_lambda_powertools.event_handler.api_gateway.ApiGatewayResolver.resolve",
            "botocore.auth.SigV4Auth.add_auth",
            "concurrent.futures.thread.ThreadPoolExecutor.submit",
            "moto.backends.list_of_moto_modules",
            "moto.core.serialize.BaseJSONSerializer._serialize_type_list",
            "moto.core.serialize.BaseJSONSerializer._serialize_type_map",
            "moto.core.serialize.BaseJSONSerializer._serialize_type_structure",
            "moto.dynamodb.comparisons.ConditionExpressionParser._lex_condition_expression",
            "moto.dynamodb.comparisons.ConditionExpressionParser.parse",
            "moto.dynamodb.models.DynamoDBBackend.transact_write_items",
            "moto.dynamodb.models.dynamo_type.Item.__init__",
            "moto.dynamodb.models.table.Table.query",
            "moto.dynamodb.responses.DynamoHandler.update_item",
            "moto.s3.responses.S3Response.get_object",
        ]
    )


def test_a_cancelled_transaction_leaves_every_table_as_it_was(sides):
    fixed = sides[0]
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][fixed.client.meta.region_name].tables
    ranged = tables[fixed.names["ranged"]]
    untouched = ranged.items[next(iter(ranged.items))]  # a partition the transaction does not name

    def cancelled(side: Side):
        before = {table: _items(side, table) for table in ("ranged", "hashed")}
        # h5 exists: the last part fails, after the others were applied
        got = answer(
            side.client.transact_write_items, TransactItems=_transaction(side.names, "attribute_not_exists(pk)")
        )
        return got[:2], {table: _items(side, table) for table in ("ranged", "hashed")} == before

    assert both(sides, cancelled) == (("error", "TransactionCanceledException"), True)
    # Items the transaction did not name were shared with the rollback copy, not copied.
    restored = ranged.items[next(iter(ranged.items))]
    assert all(restored[key] is item for key, item in untouched.items())


def test_a_transaction_that_passes_applies_every_part(sides):
    def passes(side: Side):
        got = answer(side.client.transact_write_items, TransactItems=_transaction(side.names, "attribute_exists(pk)"))
        return got, _items(side, "ranged"), _items(side, "hashed")

    _, ranged, hashed = both(sides, passes)
    assert len(ranged) == 51 and len(hashed) == 49


def test_a_key_query_reads_its_whole_partition_in_order(sides):
    def pages(side: Side):
        seen, kwargs = (
            [],
            {
                "TableName": side.names["ranged"],
                "KeyConditionExpression": "pk = :p",
                "Limit": 3,
                "ExpressionAttributeValues": {":p": {"S": "p2"}},
            },
        )
        while True:
            page = side.client.query(**kwargs)
            seen.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"], page["ScannedCount"]))
            if "LastEvaluatedKey" not in page:
                return seen
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    read = both(sides, pages)
    assert [item["sk"]["S"] for page in read for item in page[0]] == sorted(f"s{n}" for n in range(2, 50, 5))


def test_items_are_still_held_to_the_size_limit(sides):
    too_big = {"pk": {"S": "too-big"}, "a": {"S": "x" * 200_000}, "b": {"S": "y" * 205_000}}

    def limits(side: Side):
        table = side.names["hashed"]
        return [
            answer(side.client.put_item, TableName=table, Item={"pk": {"S": "big"}, "a": {"S": "x" * 200_000}}),
            answer(side.client.put_item, TableName=table, Item=too_big),
            answer(side.client.batch_write_item, RequestItems={table: [{"PutRequest": {"Item": too_big}}]}),
            len(side.client.get_item(TableName=table, Key={"pk": {"S": "big"}})["Item"]["a"]["S"]),
            "Item" in side.client.get_item(TableName=table, Key={"pk": {"S": "too-big"}}),
        ]

    got = both(sides, limits)
    assert got[1][:2] == ("error", "ValidationException") and got[3:] == [200_000, False]


def test_the_same_condition_with_other_values_is_judged_by_its_own_values(sides):
    # A condition's tokens and a write's two parses are reused (devstack.moto_fixes); its values are not.
    def judged(side: Side):
        put = {"TableName": side.names["hashed"], "ConditionExpression": "attribute_not_exists(pk) OR #o = :mine"}
        outcomes = []
        for owner in ("a", "a", "b", "a", "b"):
            outcomes.append(
                answer(
                    side.client.put_item,
                    **put,
                    Item={"pk": {"S": "key"}, "owner": {"S": "a"}},
                    ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues={":mine": {"S": owner}},
                )[:2]
            )
        for _ in range(2):  # a name the condition does not use, on the reused parse too
            outcomes.append(
                answer(
                    side.client.put_item,
                    **put,
                    Item={"pk": {"S": "key"}},
                    ExpressionAttributeNames={"#o": "owner", "#x": "x"},
                    ExpressionAttributeValues={":mine": {"S": "a"}},
                )
            )
        return outcomes

    got = both(sides, judged)
    assert [o[:2] for o in got[:5]] == [("ok", {})] * 2 + [("error", "ConditionalCheckFailedException")] + [
        ("ok", {})
    ] + [("error", "ConditionalCheckFailedException")]
    assert got[5][1] == got[6][1] == "ValidationException"


def test_dynamodb_answers_directly_with_its_own_errors_and_headers(sides):
    # DynamoDB requests skip moto's Flask app (devstack.moto_fixes.DynamoDirect): same answers.
    def direct(side: Side):
        got = side.client.get_item(TableName=side.names["hashed"], Key={"pk": {"S": "h1"}})
        headers = got["ResponseMetadata"]["HTTPHeaders"]
        return [
            got["Item"],
            headers["content-type"],
            "x-amzn-requestid" in headers,
            answer(side.client.get_item, TableName="no-such-table", Key={"pk": {"S": "h1"}}),
            answer(side.client.put_item, TableName=side.names["hashed"], Item={"sk": {"S": "no pk"}}),
        ]

    got = both(sides, direct)
    assert got[0]["count"] == {"N": "1"} and got[1].startswith("application/x-amz-json-1.0") and got[2]
    assert got[3][1] == "ResourceNotFoundException" and got[4][1] == "ValidationException"


def test_a_write_that_returns_nothing_answers_an_empty_object_with_its_own_request_id(sides):
    # A write's answer through DynamoDirect (devstack.moto_fixes): the same answers, each with an id
    # of its own.
    item = {"pk": {"S": "h9"}, "count": {"N": "3"}}

    def empty(side: Side):
        answers = [side.client.put_item(TableName=side.names["hashed"], Item=item) for _ in range(3)]
        ids = {a.pop("ResponseMetadata")["RequestId"] for a in answers}
        shapes = {(len(i), i.isascii() and i.isalnum()) for i in ids}
        old = answer(
            side.client.put_item,
            TableName=side.names["hashed"],
            Item=item,
            ReturnValues="ALL_OLD",
            ReturnConsumedCapacity="TOTAL",
        )
        return answers, len(ids), shapes, old

    answers, distinct, shapes, old = both(sides, empty)
    assert answers == [{}] * 3 and distinct == 3 and shapes == {(52, True)}
    assert old[1]["Attributes"] == item


class _ThroughWerkzeug(DynamoDirect):
    """DynamoDirect as it answers a request it does not take as botocore's plain JSON."""

    @staticmethod
    def _from_botocore(environ: dict) -> bool:
        return False


@pytest.mark.parametrize("kind", ["item", "missing table", "failed condition", "batch"])
def test_a_plain_json_request_is_answered_as_werkzeug_would(sides, stack, kind):
    # DynamoDirect sets what werkzeug would find out of a botocore request (no form, its body, its
    # URL) and writes the answer itself: status, headers and body as werkzeug's response gives them.
    client, names = sides[0].client, sides[0].names
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


def test_an_update_applies_and_fails_as_moto_does_without_its_copies(sides):
    # An update that returns nothing skips moto's copies and JSON images of the item (devstack.moto_fixes).
    def updated(side: Side):
        key = {"pk": {"S": "h7"}}
        update = {
            "TableName": side.names["hashed"],
            "Key": key,
            "UpdateExpression": "ADD #c :one SET #n = :n",
            "ExpressionAttributeNames": {"#c": "count", "#n": "note"},
        }
        call = side.client.update_item
        return [
            answer(call, **update, ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"S": "a"}}),
            answer(
                call,
                **update,
                ConditionExpression="#c = :one",
                ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"S": "b"}},
            ),
            side.client.get_item(TableName=side.names["hashed"], Key=key)["Item"],  # unchanged by the failed one
            answer(
                call,
                **update,
                ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"S": "c"}},
                ReturnValues="UPDATED_OLD",
            ),
        ]

    got = both(sides, updated)
    assert got[1][1] == "ConditionalCheckFailedException"
    assert got[2] == {"pk": {"S": "h7"}, "count": {"N": "2"}, "note": {"S": "a"}}
    assert got[3][1]["Attributes"] == {"count": {"N": "2"}, "note": {"S": "a"}}


def test_a_byte_range_of_an_object_reads_as_moto_reads_it(sides):
    # A closed range is sliced from the stored object (devstack.moto_fixes), other ranges by moto.
    key = f"work/moto-fixes/{uuid.uuid4().hex}"
    body = bytes(range(256)) * 40
    bucket = "bulkimport-local-databucket"  # the template's data bucket, on both stacks

    def ranges(side: Side):
        side.s3.put_object(Bucket=bucket, Key=key, Body=body)
        read = []
        for spec in ("100-355", "0-0", "10000-99999", "-16", "20000-20001", "5-3", "9-"):
            try:
                got = side.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={spec}")
            except ClientError as error:
                read.append(("error", error.response["Error"]["Code"]))
            else:
                read.append((_digest(got["Body"].read()), got.get("ContentRange"), got["ContentLength"]))
        read.append(_digest(side.s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        side.s3.delete_object(Bucket=bucket, Key=key)
        return read

    got = both(sides, ranges)
    assert got[0] == (_digest(body[100:356]), f"bytes 100-355/{len(body)}", 256)
    assert got[2] == (_digest(body[10000:]), f"bytes 10000-10239/{len(body)}", 240)
    assert got[4] == ("error", "InvalidRange") and got[-1] == _digest(body)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_items_of_every_attribute_type_read_back_as_written(sides):
    # Plain attribute values are answered as stored (devstack.moto_fixes); binary ones by moto.
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
    plain = {k: v for k, v in item.items() if k not in ("b", "bs", "nested_binary")} | {"pk": {"S": "plain-type"}}

    def read_back(side: Side):
        client, table = side.client, side.names["hashed"]
        client.put_item(TableName=table, Item=item)
        client.put_item(TableName=table, Item=plain)
        keys = [{"pk": item["pk"]}, {"pk": plain["pk"]}]
        return [
            client.get_item(TableName=table, Key=keys[0])["Item"],
            client.get_item(TableName=table, Key=keys[1])["Item"],
            sorted(client.batch_get_item(RequestItems={table: {"Keys": keys}})["Responses"][table], key=str),
            client.scan(
                TableName=table,
                ScanFilter={"pk": {"AttributeValueList": [item["pk"]], "ComparisonOperator": "EQ"}},
            )["Items"],
            answer(
                client.query,
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": plain["pk"]},
            ),
        ]

    got = both(sides, read_back)
    assert got[0] == item and got[1] == plain and got[3] == [item]
    assert got[4][1]["Items"] == [plain] and got[4][1]["Count"] == 1


@pytest.mark.parametrize("word", ["name", "Size", "STATUS"])
def test_a_reserved_word_in_an_expression_is_still_refused(sides, word):
    """A reserved word in a condition (parsed once per text: devstack.moto_fixes) is refused, in any
    case, as AWS refuses it; the same name behind an expression attribute name is accepted."""
    item = {"pk": {"S": "h-reserved"}, "count": {"N": "1"}}

    def refused(side: Side):
        put = side.client.put_item
        table = side.names["hashed"]
        return [
            answer(put, TableName=table, Item=item, ConditionExpression=f"attribute_not_exists({word})"),
            answer(
                put,
                TableName=table,
                Item=item,
                ConditionExpression="attribute_not_exists(#w)",
                ExpressionAttributeNames={"#w": word},
            ),
        ]

    got = both(sides, refused)
    assert got[0][1] == "ValidationException" and "reserved keyword" in got[0][2] and got[1] == ("ok", {})


@pytest.mark.parametrize(
    ("condition", "values"),
    [
        ("#n BETWEEN :lo AND :hi", {":lo": {"N": "1"}, ":hi": {"N": "9"}}),
        ("#n BETWEEN :lo AND :hi", {":lo": {"N": "6"}, ":hi": {"N": "9"}}),
        ("#o IN (:a, :b)", {":a": {"S": "x"}, ":b": {"S": "a"}}),
        ("#o IN (:a, :b)", {":a": {"S": "x"}, ":b": {"S": "y"}}),
        ("#o = :a", {":a": {"S": "a"}}),
        ("#o = :a", {":a": {"N": "5"}}),  # the same text with a value of another kind
        ("#n = :a", {":a": {"N": "5"}}),
        ("size(#t) > :n AND contains(#t, :v)", {":n": {"N": "1"}, ":v": {"S": "b"}}),
        ("size(#t) > :n AND contains(#t, :v)", {":n": {"N": "1"}, ":v": {"S": "z"}}),
        ("#m = :m", {":m": {"M": {"k": {"L": [{"S": "v"}]}}}}),
        ("#m = :m", {":m": {"M": {"k": {"L": [{"S": "w"}]}}}}),
        ("#o = :a AND #x = :a", {":a": {"S": "a"}}),  # a name it is not given
        ("#o = :missing", {":a": {"S": "a"}}),  # a value it is not given
    ],
)
def test_a_condition_parsed_once_is_judged_by_each_requests_values(sides, condition, values):
    """Condition trees are parsed once per text, names and kinds of values, with each request's
    values bound into a copy (devstack.moto_fixes): every kind, operator and function still judges
    the values it is sent, as stock moto does. Each case runs twice, so the second one reuses the
    parsed tree."""
    stored = {
        "pk": {"S": "judged"},
        "owner": {"S": "a"},
        "n": {"N": "5"},
        "tags": {"L": [{"S": "a"}, {"S": "b"}]},
        "meta": {"M": {"k": {"L": [{"S": "v"}]}}},
    }
    attribute_names = {"#o": "owner", "#n": "n", "#t": "tags", "#m": "meta"}
    used = {name: value for name, value in attribute_names.items() if name in condition}

    def judged(side: Side):
        side.client.put_item(TableName=side.names["hashed"], Item=stored)
        return [
            answer(
                side.client.put_item,
                TableName=side.names["hashed"],
                Item=stored,
                ConditionExpression=condition,
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=values,
            )
            for _ in range(2)
        ]

    first, second = both(sides, judged)
    assert first == second


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
