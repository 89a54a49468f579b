"""The unique-key index: one item per taken key (a table's unique field value, or a recipe's
identity), in the records table, naming the record that holds it and who claimed it. Claimed with
conditional writes, so a key has one holder whoever writes: two imports, a batch-create, retries."""

from __future__ import annotations

from botocore.exceptions import ClientError

from bulkimport.adapters.aws import client
from bulkimport.adapters.dynamo.codec import from_item, to_item
from bulkimport.adapters.dynamo.conditions import is_conditional_failure
from bulkimport.adapters.retry import until_all_processed
from bulkimport.config import Tables, section

INDEX_SK = "U"


class UniqueIndex:
    def __init__(self, table_name: str | None = None):
        self.table_name = table_name or section(Tables).records_table
        self.ddb = client("dynamodb")

    def claim(self, index_pk: str, record_id: str, owner: str) -> bool:
        """Take a unique key for a record; True if it is now (or already was) that record's."""
        return self._put(index_pk, record_id, owner, "attribute_not_exists(pk) OR record_id = :rid", record_id)

    def take_over(self, index_pk: str, old_record_id: str, record_id: str, owner: str) -> bool:
        """Move a key from a record that was never written to another, if nobody moved it first."""
        return self._put(index_pk, record_id, owner, "record_id = :rid", old_record_id)

    def _put(self, index_pk: str, record_id: str, owner: str, condition: str, expected_record_id: str) -> bool:
        try:
            self.ddb.put_item(
                TableName=self.table_name,
                Item=to_item({"pk": index_pk, "sk": INDEX_SK, "record_id": record_id, "owner": owner}),
                ConditionExpression=condition,
                ExpressionAttributeValues={":rid": {"S": expected_record_id}},
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def holder(self, index_pk: str) -> dict | None:
        """{"record_id", "owner"} of a taken key."""
        response = self.ddb.get_item(
            TableName=self.table_name, Key=to_item({"pk": index_pk, "sk": INDEX_SK}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def release(self, index_pk: str, record_id: str) -> None:
        """Give a unique key back, only if that record still holds it."""
        try:
            self.ddb.delete_item(
                TableName=self.table_name,
                Key=to_item({"pk": index_pk, "sk": INDEX_SK}),
                ConditionExpression="record_id = :rid",
                ExpressionAttributeValues={":rid": {"S": record_id}},
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise

    def holders(self, index_pks: list[str]) -> dict[str, str]:
        """{index pk: record id} for the keys that are taken (BatchGetItem, 100 at a time)."""
        found: dict[str, str] = {}

        def send(pending: dict) -> dict:
            response = self.ddb.batch_get_item(RequestItems=pending)
            for item in response["Responses"].get(self.table_name, []):
                found[item["pk"]["S"]] = item["record_id"]["S"]
            return response.get("UnprocessedKeys") or {}

        unique_pks = list(dict.fromkeys(index_pks))
        for start in range(0, len(unique_pks), 100):
            wanted = [to_item({"pk": pk, "sk": INDEX_SK}) for pk in unique_pks[start : start + 100]]
            until_all_processed(send, {self.table_name: {"Keys": wanted, "ConsistentRead": True}})
        return found
