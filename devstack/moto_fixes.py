"""Where moto's cost grows with everything the stack has stored, narrowed to what AWS would touch.

Over a test session or a benchmark the control table holds tens of thousands of items (every
tenant's imports, chunk markers, unique keys) and the records table more, so a call whose cost
grows with a table's size grows slower as the session goes, and with it the whole suite: its
second half ran several times slower than the same tests alone. Two such calls are narrowed here;
what they answer is unchanged.

- Query on a table's own key: moto lists and sorts every item of the table, then keeps the queried
  partition's. Given only the partition's items, moto's own code does the rest as before (sorting
  by the sort key, key conditions, filters, paging).
- TransactWriteItems: to roll back a cancelled transaction, moto deep-copies every table the
  transaction names, whole (about 1 s per 20,000 items), before it starts. Here it copies only what
  the transaction can change: the items it names are deep-copied, the others are shared with the
  copy (a transaction does not touch them), so a rollback restores the same state.

A new item's size is checked once: moto's item dict recomputes the size of every attribute it holds
each time one is set, so building an item of n attributes costs n^2/2 attribute sizes (a fifth of a
BatchWriteItem's time in moto). Here the new item's attributes are sized once and the total checked
against the same limit; sizes only add up, so the last of moto's checks was the one that could
fail. Later changes to a stored item still go through moto's own checks.

Two more are fixed costs of every request, the same answer recomputed each time (together about a
seventh of a conditional PutItem served in-process):
- which services moto has: moto lists its package directory and stats every entry (57 system calls)
  for each request it routes; the directory does not change while it runs, so it is listed once.
- the action methods of a response class: moto walks the class with inspect.getmembers for each
  request it dispatches; a class's methods do not change, so they are found once per class.

A conditional write, one per unique key a row claims, paid for more than the write (measured in-process,
CPU of 2,500 conditional PutItems, median of 5: 1.41 ms each before these, 1.07 ms after):
- its condition was lexed character by character at every parse, and parsed twice (moto's request
  handler checks the names it uses, then the table evaluates it). Tokens are remembered per
  expression text, and a tree per text, names and kinds of values, parsed with placeholders where
  the values go; each parse binds its own values into a copy of it.
- DynamoDB requests went through the Flask app moto builds per service (URL routing, CORS,
  debug-mode checks that build a class per request, a Flask response). `DynamoDirect` hands them to
  moto's DynamoDB handler as that app does, with moto's own request class over the same environ.

An UpdateItem deep-copied the item twice and turned it into JSON twice, for the attributes it may
return and the table's stream; an import's item (its recipe, table and counters) is large and is
updated for every chunk counted and every progress note (8.6 ms of CPU each, 3.8 ms after). An
update that returns nothing, of a table without a stream, skips them; its update is moto's own.

Every item moto answers (GetItem, BatchGetItem, Query, an update's ReturnValues) went through its
response serializer attribute by attribute, member by member of the service model; a plain attribute
value (no binary, which is base64-encoded) is its own JSON and is answered as stored, and so is an
item, or a list of items, whose values are all plain: reading an
import's item took 13.8 ms of CPU, 3.5 ms after (median of 5 x 50, same answer).

A ranged GetObject (each chunk worker reads its byte range of the upload) copied the whole object
before slicing it: 24.5 ms of CPU for 200 KB of a 50 MB object, 1.4 ms when the range is read from
the stored object (a closed range "bytes=a-b"; other ranges, and everything else moto answers, as
before). For a 100 MB file of 500 chunks that was 50 GB of copies.

Every attribute name in a condition, update or projection expression was looked up in moto's list
of DynamoDB's 573 reserved words one by one (most of a conditional write's condition parsing); the
same words are looked up in a set.

A DynamoDB item request (PutItem, BatchWriteItem, UpdateItem, GetItem, Query...) was parsed member by
member through the service model; without binary attributes (base64 in JSON, bytes once parsed) the
result is the JSON as decoded, so such requests are decoded with json.loads.

A key claim then still paid, on moto's side, for work that changes nothing it answers (in-process,
3,000 claims, median of 5: 0.44 ms each before these, 0.23 ms after):
- a condition's bound copy copied the whole tree; only the nodes on the way to a value are copied
  (moto's nodes set their attributes in their constructors only, so the rest is shared);
- each response's request id was drawn one character at a time (52 calls); now in one call;
- an empty result ({}: a write without ReturnValues) was looked up member by member of the
  operation's output shape; it is answered as {} at once;
- a request as botocore sends it (DynamoDirect) went through werkzeug's form parsing, URL rebuilding
  and response object; what they would find is set at once, and the answer written as they write it.

The stack serves one AWS call at a time (devstack.stack._AwsEndpoint), so what is shadowed for the
length of a call is seen by no other request.
"""

from __future__ import annotations

import copy
import os
import re
import string
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
        "find_action_methods_once": _find_action_methods_once,
        "size_new_items_once": _size_new_items_once,
        "lex_condition_expressions_once": _lex_condition_expressions_once,
        "update_items_without_copies": _update_items_without_copies,
        "read_ranges_from_the_object": _read_ranges_from_the_object,
        "answer_plain_attribute_values_as_stored": _answer_plain_attribute_values_as_stored,
        "read_plain_requests_as_json": _read_plain_requests_as_json,
        "look_up_reserved_words_in_a_set": _look_up_reserved_words_in_a_set,
        "draw_random_strings_at_once": _draw_random_strings_at_once,
        "answer_empty_results_without_the_model": _answer_empty_results_without_the_model,
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


# DynamoDB operations whose requests hold no timestamp and no binary but in AttributeValues ("B", "BS").
_ITEM_OPERATIONS = frozenset(
    (
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "GetItem",
        "BatchWriteItem",
        "BatchGetItem",
        "Query",
        "TransactWriteItems",
        "TransactGetItems",
    )
)


# A binary AttributeValue's member, as JSON writes it: a key "B" or "BS" (a key is followed by a colon,
# a string value never is; inside a string the quotes would be escaped).
_BINARY_MEMBER = re.compile(rb'(?<!\\)"BS?"\s*:')


def plain_json_request(action: str, body: bytes) -> bool:
    """Whether moto's model-driven parse of this DynamoDB request gives what json.loads gives: an
    item operation, and no binary attribute (the parser base64-decodes those). A map key named "B"
    looks like one too: moto's parser reads that request, as before."""
    return action in _ITEM_OPERATIONS and _BINARY_MEMBER.search(body) is None


def _draw_random_strings_at_once() -> None:
    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(self, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        # moto drew each character with its own choice() call, and every response's request id is
        # 52 of them (a twentieth of a conditional PutItem's time in moto); choices() draws them in
        # one call, from the same pool, with the same (seedable) generator.
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]


def _answer_empty_results_without_the_model() -> None:
    from moto.core.serialize import BaseJSONSerializer

    moto_serialize_result = BaseJSONSerializer._serialize_result

    def serialize_result(self, resp, result):
        # A write that returns nothing (a PutItem, an UpdateItem or DeleteItem without ReturnValues)
        # answers {}: moto still looked up every member of the operation's output shape in it.
        if type(result) is dict and not result:
            return self._serialized_result_to_response(resp, result, self.operation_model.output_shape, self.MAP_TYPE())
        return moto_serialize_result(self, resp, result)

    BaseJSONSerializer._serialize_result = serialize_result  # type: ignore[method-assign]


class _Words(list):
    """moto's list of DynamoDB's reserved words, with `in` answered by a set: the same words."""

    def __init__(self, words):
        super().__init__(words)
        self._set = frozenset(self)

    def __contains__(self, word) -> bool:
        return word in self._set


def _look_up_reserved_words_in_a_set() -> None:
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    ReservedKeywords.KEYWORDS = _Words(ReservedKeywords.get_reserved_keywords())


def _read_plain_requests_as_json() -> None:
    import json

    from moto.dynamodb.responses import DynamoHandler

    moto_parse = DynamoHandler.parse_parameters

    def parse_parameters(self, request) -> None:
        # moto walks the request's JSON member by member through the service model (a sixth of a
        # conditional write's time in moto); for these requests that walk changes nothing.
        body = request.data
        if plain_json_request(self._get_action(), body):
            self.params = json.loads(body) if body else {}
        else:
            moto_parse(self, request)

    DynamoHandler.parse_parameters = parse_parameters


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


def _find_action_methods_once() -> None:
    from functools import cache

    from moto.core import responses

    cached = cache(responses.method_names_from_class)
    cached.__module__ = __name__  # whose it is, for whoever lists what devstack replaced
    responses.method_names_from_class = cached  # type: ignore[assignment]


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
