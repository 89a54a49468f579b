"""DynamoDB: the codec, the control table, the records table and its unique-key index."""

from bulkimport.adapters.dynamo.codec import from_item, to_attr, to_item
from bulkimport.adapters.dynamo.conditions import Attr, Condition, item_absent, item_exists
from bulkimport.adapters.dynamo.control import ControlStore
from bulkimport.adapters.dynamo.cursors import decode_position, encode_cursor
from bulkimport.adapters.dynamo.records import RecordStore
from bulkimport.adapters.dynamo.unique_index import UniqueIndex

__all__ = [
    "Attr",
    "Condition",
    "ControlStore",
    "RecordStore",
    "UniqueIndex",
    "decode_position",
    "encode_cursor",
    "from_item",
    "item_absent",
    "item_exists",
    "to_attr",
    "to_item",
]
