"""Where moto's cost grows with what the stack has stored, or is paid again for the same answer, a
narrower path to the same answer; moto's own code still does the work. Each fix is held to stock
moto's answers (tests/integration/test_moto_fixes.py, against a --stock-moto stack) and what it buys
is measured against the stack without it (bench/moto_fixes_ab.py); one that stopped paying for its
risk is removed. DEVSTACK_MOTO_FIXES=0 (`python -m devstack --stock-moto`) installs none of them, and
`install` refuses a moto or botocore release other than the one they were written for.

Costs that grow with a table's size (over a session the control and records tables hold tens of
thousands of items, so every call grew slower as the session went):
- Query on a table's own key: moto lists and sorts every item of the table, then keeps the queried
  partition's. Given only the partition's items, moto's own code does the rest as before (sorting
  by the sort key, key conditions, filters, paging).
- TransactWriteItems: to roll back a cancelled transaction, moto deep-copies every table the
  transaction names, whole, before it starts. Here it copies only what the transaction can change:
  the items it names are deep-copied, the others are shared with the copy (a transaction does not
  touch them), so a rollback restores the same state.

Work a request repeats for nothing:
- A new item's size: moto's item dict recomputes the size of every attribute it holds each time one
  is set (n^2/2 sizes for an item of n attributes). The new item's attributes are sized once and the
  total checked against the same limit; sizes only add up, so the last of moto's checks was the one
  that could fail. Later changes to a stored item go through moto's own checks.
- Which services moto has: moto lists its package directory for every request it routes (S3, SQS,
  Step Functions: DynamoDB's go through DynamoDirect); the directory does not change, so it is listed
  once.
- A condition (one per unique key a row claims) was lexed character by character at every parse and
  parsed twice (moto's handler checks the names it uses, then the table evaluates it). Tokens are
  remembered per expression text, and a tree per text, names and kinds of values, parsed with
  placeholders where the values go; each parse binds its own values into a copy of the nodes on the
  way to a value (moto's nodes set their attributes in their constructors only; the rest is shared).
- DynamoDB requests went through the Flask app moto builds per service (URL routing, CORS, debug-mode
  checks, a Flask response). `DynamoDirect` hands them to moto's DynamoDB handler as that app does,
  with moto's own request class over the same environ; a request as botocore sends it skips
  werkzeug's form parsing and URL rebuilding, and its answer is written as werkzeug writes it.
- An UpdateItem deep-copies the item twice and turns it into JSON twice, for the attributes it may
  return and the table's stream; an import's item is large and updated for every chunk counted. An
  update that returns nothing, of a table without a stream, skips them; its update is moto's own.
- Every item moto answers went through its response serializer attribute by attribute; a plain
  attribute value (no binary, which is base64-encoded) is its own JSON and is answered as stored, and
  so is an item, or a list of items, whose values are all plain.
- A ranged GetObject (each chunk worker reads its byte range of the upload) copied the whole object
  before slicing it; a closed range "bytes=a-b" is read from the stored object (other ranges, and
  everything else moto answers, as before).

The stack serves one AWS call at a time (devstack.stack._AwsEndpoint), so what is shadowed for the
length of a call is seen by no other request.
"""

from __future__ import annotations

import copy
import os
from collections import defaultdict
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from werkzeug.http import HTTP_STATUS_CODES

# The switch: DEVSTACK_MOTO_FIXES=0 (or `python -m devstack --stock-moto`) runs the stack on moto and
# botocore as released, so that a wrong answer can be told a moto bug or a fix's.
SWITCH = "DEVSTACK_MOTO_FIXES"
# The releases these fixes were written against and tested with (requirements-dev.txt,
# layers/core/requirements.txt): each one replaces a private method of theirs, whose signature and
# behaviour another release may change without a word.
WRITTEN_FOR = {"moto": "5.2.5", "botocore": "1.43.11"}

_installed = False


def wanted() -> bool:
    """Whether the fixes are on: unless DEVSTACK_MOTO_FIXES is 0 (or off, false, no)."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "off", "false", "no")


class VersionMismatch(RuntimeError):
    """A moto or botocore release the fixes were not written for."""


def check_versions() -> None:
    """Refuse to patch a moto or botocore other than the one the fixes were written for."""
    found = {package: version(package) for package in WRITTEN_FOR}
    wrong = [
        f"{package} {found[package]} (written for {WRITTEN_FOR[package]})"
        for package in WRITTEN_FOR
        if found[package] != WRITTEN_FOR[package]
    ]
    if wrong:
        pins = " ".join(f"{package}=={wanted_version}" for package, wanted_version in WRITTEN_FOR.items())
        raise VersionMismatch(
            f"devstack's moto fixes (devstack/moto_fixes.py) were not written for {', '.join(wrong)}. "
            f"Run the stack on moto as released with {SWITCH}=0 (make run DEVSTACK_FLAGS=--stock-moto, "
            f"or python -m devstack --stock-moto), or install the versions they were written for: "
            f"pip install {pins} (make install)."
        )


def install() -> None:
    """Install every fix (once per process), after checking the versions they were written for."""
    global _installed
    if _installed:
        return
    check_versions()
    _installed = True
    for fix in fixes().values():
        fix()


def fixes() -> dict[str, Callable[[], None]]:
    """Each fix by name, as install() installs them (bench/moto_fixes_ab.py measures them one by one)."""
    return {
        "narrow_key_queries": _narrow_key_queries,
        "narrow_transaction_rollback_copies": _narrow_transaction_rollback_copies,
        "list_moto_modules_once": _list_moto_modules_once,
        "size_new_items_once": _size_new_items_once,
        "lex_condition_expressions_once": _lex_condition_expressions_once,
        "update_items_without_copies": _update_items_without_copies,
        "read_ranges_from_the_object": _read_ranges_from_the_object,
        "answer_plain_attribute_values_as_stored": _answer_plain_attribute_values_as_stored,
    }


def _size_new_items_once() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict, bytesize

    def item_init(self, hash_key, range_key, attrs):
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        # moto's limit (LimitedSizeDict.__setitem__), over the same sizes of names and values
        if sum(bytesize(key) + value.size() for key, value in values.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, values)  # dict's own update: no per-attribute check again

    Item.__init__ = item_init


def _lex_condition_expressions_once() -> None:
    from collections import deque
    from functools import lru_cache

    from moto.dynamodb.comparisons import ConditionExpressionParser

    moto_lex = ConditionExpressionParser._lex_condition_expression

    @lru_cache(maxsize=1024)
    def lexed(expression: str) -> tuple:
        # The tokens depend on the expression's text only; names and values are bound later.
        return tuple(moto_lex(ConditionExpressionParser(expression, None, None)))

    def lex(self):
        return deque(lexed(self.condition_expression))  # a fresh deque: the parser consumes it

    ConditionExpressionParser._lex_condition_expression = lex

    # A condition's tree depends on its text, its names and the kind of each value ("S", "N", ...);
    # the values themselves only sit in its leaves. So a tree is parsed once per (text, names, kinds),
    # with a placeholder for each value, and each parse binds its request's values into a copy.
    # (A conditional write also parses its condition twice: moto's handler checks the names it uses,
    # then the table evaluates it.)
    moto_parse = ConditionExpressionParser.parse
    templates: dict = {}  # key -> (tree with placeholders, names found, values found)

    def parse(self):
        values = self.expression_attribute_values or {}
        try:
            kinds = tuple(sorted((name, _only_member(value)) for name, value in values.items()))
        except (TypeError, ValueError, AttributeError):
            return moto_parse(self)  # a malformed value: moto's own parse answers it
        key = (self.condition_expression, repr(self.expression_attribute_names), kinds)
        template = templates.get(key)
        if template is None:
            slots = {name: {kind: _Slot(name, kind)} for name, kind in kinds}
            probe = ConditionExpressionParser(self.condition_expression, self.expression_attribute_names, slots)
            try:
                tree = moto_parse(probe)
            except Exception:  # noqa: BLE001 - the request's error, raised by moto's parse of its own values
                return moto_parse(self)
            if len(templates) >= 4096:
                templates.clear()
            names_found, values_found = tuple(probe.expr_attr_names_found), tuple(probe.expr_attr_values_found)
            template = templates[key] = (_binder(tree) or (lambda _values: tree), names_found, values_found)
        bind, names_found, values_found = template
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return bind(values)

    ConditionExpressionParser.parse = parse


class _Slot:
    """Where an expression attribute value's member goes in a parsed condition."""

    __slots__ = ("kind", "name")

    def __init__(self, name: str, kind: str):
        self.name, self.kind = name, kind


def _only_member(value) -> str:
    (kind,) = value.keys()
    return kind


def _binder(node) -> Callable[[dict], Any] | None:
    """A function of a request's values that returns a copy of a condition's tree (moto's Op, Func and
    Operand objects, lists and tuples of them) with each placeholder replaced by its value; None if the
    tree has no placeholder. Only the nodes on the way to a placeholder are copied: moto sets a node's
    attributes in its constructor only, so a part without a value is shared by every copy (a claim's
    condition copies 3 of its 9 nodes)."""
    kind = type(node)
    if kind is _Slot:
        name, member = node.name, node.kind
        return lambda values: values[name][member]
    if kind is list or kind is tuple:
        parts = [_binder(item) for item in node]
        if not any(parts):
            return None
        pairs = [(part, item) for part, item in zip(parts, node, strict=True)]
        if kind is list:
            return lambda values: [part(values) if part else item for part, item in pairs]
        return lambda values: tuple([part(values) if part else item for part, item in pairs])
    if kind.__module__ == "moto.dynamodb.comparisons" and hasattr(node, "__dict__"):
        attributes = [(name, _binder(part)) for name, part in node.__dict__.items()]
        bound = [(name, binder) for name, binder in attributes if binder]
        if not bound:
            return None
        state = node.__dict__

        def bind_node(values: dict):
            clone = kind.__new__(kind)
            clone.__dict__.update(state)
            for name, binder in bound:
                clone.__dict__[name] = binder(values)
            return clone

        return bind_node
    return None


def _update_items_without_copies() -> None:
    import moto.dynamodb.models as backend_module
    import moto.dynamodb.responses as handler_module
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.responses import DynamoHandler

    moto_update = DynamoHandler.update_item
    moto_to_json = Item.to_json

    class NoCopy:
        """`copy` as moto's two modules see it while an update needs no copy: the item itself."""

        @staticmethod
        def deepcopy(value, memo=None):
            return value

    def update_item(self):
        body = self.body
        try:
            table = self.dynamodb_backend.get_table(body["TableName"])
        except Exception:  # noqa: BLE001 - moto's own code answers a request it cannot route
            return moto_update(self)
        # What the copies and JSON images are for: the attributes an update returns, and the table's
        # stream. Without either, the update itself goes through moto's code unchanged.
        if (
            body.get("ReturnValues", "NONE") != "NONE"
            or "ReturnValuesOnConditionCheckFailure" in body
            or table.stream_shard is not None
        ):
            return moto_update(self)
        handler_module.copy = backend_module.copy = NoCopy  # type: ignore[assignment]
        Item.to_json = lambda item: {"Attributes": {}}  # type: ignore[method-assign]
        try:
            return moto_update(self)
        finally:
            handler_module.copy = backend_module.copy = copy  # type: ignore[assignment]
            Item.to_json = moto_to_json  # type: ignore[method-assign]

    DynamoHandler.update_item = update_item


_PLAIN_KINDS = frozenset(("S", "N", "SS", "NS", "BOOL", "NULL"))


def _plain(value) -> bool:
    """Whether an AttributeValue (as moto's items give it) is its own JSON: one member, no binary
    (which the serializer base64-encodes), nested ones plain too."""
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind == "M":
        return type(inner) is dict and all(_plain(v) for v in inner.values())
    if kind == "L":
        return type(inner) is list and all(_plain(v) for v in inner)
    return kind in _PLAIN_KINDS and inner is not None


def _plain_item(shape, value) -> bool:
    """Whether a value of a map shape is an item (a map of AttributeValues) whose values are all plain."""
    return (
        getattr(shape, "type_name", None) == "map"
        and shape.value.name == "AttributeValue"
        and type(value) is dict
        and all(_plain(v) for v in value.values())
    )


def _answer_plain_attribute_values_as_stored() -> None:
    from moto.core.serialize import BaseJSONSerializer

    def as_stored_when(method: str, stored_as_is) -> None:
        """moto's serializer `method`, but a value for which stored_as_is(shape, value, key) holds is
        answered as it is: its own JSON."""
        moto_method = getattr(BaseJSONSerializer, method)

        def serialize(self, serialized, value, shape, key):
            if stored_as_is(shape, value, key):
                self._default_serialize(serialized, value, shape, key)
            else:
                moto_method(self, serialized, value, shape, key)

        setattr(BaseJSONSerializer, method, serialize)

    # moto walks every attribute of every item it answers member by member through the service model;
    # a plain AttributeValue comes out as it went in, and so does an item of them (one check per item
    # instead of a picker per attribute), and a list of such items (a Query's, a BatchGetItem's).
    as_stored_when(
        "_serialize_type_structure", lambda shape, value, key: key and shape.name == "AttributeValue" and _plain(value)
    )
    as_stored_when("_serialize_type_map", lambda shape, value, key: _plain_item(shape, value))
    as_stored_when(
        "_serialize_type_list",
        lambda shape, value, key: type(value) is list and all(_plain_item(shape.member, item) for item in value),
    )


class _Window:
    """An object's bytes as moto's S3 range handler reads them (its length, then one slice), read from
    the stored object when sliced instead of copied whole first."""

    def __init__(self, key):
        self.key = key

    def __len__(self) -> int:
        return self.key.size

    def __bool__(self) -> bool:
        return self.key.size > 0

    def __getitem__(self, part: slice) -> bytes:
        with self.key.lock:
            self.key._value_buffer.seek(part.start)
            return self.key._value_buffer.read(part.stop - part.start)


def _read_ranges_from_the_object() -> None:
    import re

    from moto.s3.models import FakeKey
    from moto.s3.responses import S3Response

    moto_get_object = S3Response.get_object
    moto_value = FakeKey.value

    def get_object(self):
        # A chunk worker reads its byte range of the upload: moto copied the whole object for each.
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("range") or "")
        if wanted is None or int(wanted[1]) > int(wanted[2]) or "partNumber" in self.querystring:
            return moto_get_object(self)
        FakeKey.value = property(_Window)  # type: ignore[method-assign,assignment]
        try:
            return moto_get_object(self)
        finally:
            FakeKey.value = moto_value  # type: ignore[method-assign]

    S3Response.get_object = get_object


class DynamoDirect:
    """DynamoDB's requests answered by moto's DynamoDB handler directly, not through the Flask app moto
    builds per service (routing, CORS, debug-mode request checks, a Flask response object): what the
    handler gets (moto's own request class over the same environ) and answers is unchanged. Any other
    request goes on to `app`.

    A botocore request (JSON to the root URL, not compressed) is also spared werkzeug's work of
    finding out what is known: no form (werkzeug parses none for a JSON content type), its body, and
    its URL; and the answer goes out as moto's status, headers and body, with the Content-Length (and
    the default Content-Type) werkzeug's response would add."""

    TARGET = "DynamoDB_20120810."

    def __init__(self, app):
        from moto.dynamodb.responses import DynamoHandler
        from moto.moto_api import recorder
        from moto.moto_server.werkzeug_app import BackendRequest
        from werkzeug.datastructures import ImmutableMultiDict
        from werkzeug.wrappers import Response

        self.app, self.handler, self.recorder = app, DynamoHandler, recorder
        self.request_class, self.response_class = BackendRequest, Response
        self.no_form = ImmutableMultiDict

    def __call__(self, environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(self.TARGET):
            return self.app(environ, start_response)
        from botocore.exceptions import ClientError

        request = self.request_class(environ)
        full_url = None
        if self._from_botocore(environ):
            request.__dict__["form"], request.__dict__["files"] = self.no_form(), self.no_form()
            request._cached_data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            full_url = f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}/"
        # As moto's convert_to_flask_response does
        self.recorder._record_request(request)
        try:
            # Without headers passed, moto's setup reads the request's own: the same, not copied.
            copied = None if full_url else dict(request.headers)
            result = self.handler.dispatch(request, full_url or request.raw_url, copied)
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        if full_url is None:
            return self.response_class(response=content, status=status, headers=headers)(environ, start_response)
        body = content.encode() if isinstance(content, str) else content
        answer = [(name, str(value)) for name, value in headers.items()]
        if not any(name.lower() == "content-type" for name, _ in answer):
            answer.append(("Content-Type", "text/plain; charset=utf-8"))
        answer.append(("Content-Length", str(len(body))))
        code = int(status)
        start_response(f"{code} {HTTP_STATUS_CODES.get(code, 'UNKNOWN')}", answer)  # as werkzeug words it
        return [body]

    @staticmethod
    def _from_botocore(environ: dict) -> bool:
        """A request as botocore sends DynamoDB one: JSON to the root URL, not compressed."""
        return (
            environ.get("CONTENT_TYPE", "").startswith("application/x-amz-json-")
            and not environ.get("HTTP_CONTENT_ENCODING")
            and not environ.get("QUERY_STRING")
            and environ.get("PATH_INFO") == "/"
            and environ.get("RAW_URI", "/") == "/"
            and "HTTP_HOST" in environ
            and (environ.get("CONTENT_LENGTH") or "0").isdigit()
        )


def _list_moto_modules_once() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def _narrow_key_queries() -> None:
    moto_query = Table.query

    def query(self, hash_key, *args, **kwargs):
        # moto's own signature: (hash_key, range_comparison, range_objs, limit, exclusive_start_key,
        # scan_index_forward, projection_expressions, index_name=None, ...). Only a key query of a
        # table with a sort key is narrowed to its partition; everything else goes to moto as is.
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or not self.range_key_attr or hash_key is None:
            return moto_query(self, hash_key, *args, **kwargs)
        partition = list(self.items[hash_key].values()) if hash_key in self.items else []
        self.all_items = lambda: partition
        try:
            return moto_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query


def _narrow_transaction_rollback_copies() -> None:
    moto_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        try:
            named = _named_keys(self, transact_items)
        except Exception:  # noqa: BLE001 - a malformed request: moto's own code answers it
            return moto_transact(self, transact_items)
        # moto takes its rollback copy of each table with copy.deepcopy(table).
        Table.__deepcopy__ = lambda table, memo: _rollback_copy(table, named[table.name])
        try:
            return moto_transact(self, transact_items)
        finally:
            del Table.__deepcopy__

    DynamoDBBackend.transact_write_items = transact_write_items


def _named_keys(backend, transact_items) -> dict[str, list[tuple[DynamoType, DynamoType | None]]]:
    """The (hash, range) keys of the items each table's part of a transaction names."""
    named = defaultdict(list)
    for entry in transact_items:
        ((_, operation),) = entry.items()
        table = backend.tables[operation["TableName"]]
        key = operation["Item"] if "Item" in operation else operation["Key"]
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        named[table.name].append((DynamoType(key[table.hash_key_attr]), range_key))
    return named


def _rollback_copy(table: Table, keys: list[tuple[DynamoType, DynamoType | None]]) -> Table:
    """The table as it is, for a transaction that changes only the items at `keys`: those items
    deep-copied, the others shared."""
    snapshot = copy.copy(table)
    if table.range_key_attr:
        snapshot.items = defaultdict(dict, {hash_key: dict(items) for hash_key, items in table.items.items()})
    else:
        snapshot.items = defaultdict(dict, table.items)
    for hash_key, range_key in keys:
        if range_key is None:
            if hash_key in table.items:
                snapshot.items[hash_key] = copy.deepcopy(table.items[hash_key])
        elif range_key in table.items.get(hash_key, {}):
            snapshot.items[hash_key][range_key] = copy.deepcopy(table.items[hash_key][range_key])
    return snapshot


# Whose functions devstack may replace: moto's, botocore's, werkzeug's, Powertools', the standard
# library's thread pools.
_LIBRARIES = ("moto", "botocore", "boto3", "werkzeug", "flask", "aws_lambda_powertools", "concurrent")


def replaced() -> list[str]:
    """What of those libraries, as loaded in this process, is devstack's now ("module.Class.name"):
    module attributes and class attributes whose function (or value) devstack defined."""
    import sys

    def ours(value: Any) -> bool:
        if isinstance(value, property):
            value = value.fget
        if callable(value):
            owner = getattr(value, "__module__", None)
        else:  # a value devstack put in place of a library's container (not one a library stored)
            owner = type(value).__module__ if isinstance(value, list | dict | set | frozenset) else None
        return isinstance(owner, str) and owner.split(".")[0] == "devstack"

    found = set()
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _LIBRARIES:
            continue
        for attribute, value in list(vars(module).items()):
            if ours(value):
                found.add(f"{name}.{attribute}")
            if isinstance(value, type) and value.__module__ == name:
                found.update(
                    f"{name}.{value.__qualname__}.{member}" for member, inner in vars(value).items() if ours(inner)
                )
    return sorted(found)
