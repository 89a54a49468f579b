"""The unique-key index: one item per taken key (a unique field's value, but the table's key field's,
whose record is its own claim; or a recipe's identity), in the records table, naming the record that
holds it, who claimed it and for which write (origin). Claimed with
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

    def claim(self, index_pk: str, record_id: str, owner: str, origin: str | None = None) -> bool:
        """Take a unique key for a record; True if it is now (or already was) that record's.

        With `origin` (the write that creates the record: records keyed by their key field's value
        share an id with every other row of that value), the key is taken only if free or claimed by
        that same origin before, so two rows inserting one record cannot both hold the key."""
        if origin is None:
            return self._put(index_pk, record_id, owner, "attribute_not_exists(pk) OR record_id = :rid", record_id)
        return self._put(
            index_pk,
            record_id,
            owner,
            "attribute_not_exists(pk) OR (record_id = :rid AND origin = :origin)",
            record_id,
            origin,
        )

    def take_over(
        self, index_pk: str, old_record_id: str, record_id: str, owner: str, origin: str | None = None
    ) -> bool:
        """Move a key from a record that was never written to another, if nobody moved it first."""
        return self._put(index_pk, record_id, owner, "record_id = :rid", old_record_id, origin)

    def _put(
        self,
        index_pk: str,
        record_id: str,
        owner: str,
        condition: str,
        expected_record_id: str,
        origin: str | None = None,
    ) -> bool:
        item = {"pk": index_pk, "sk": INDEX_SK, "record_id": record_id, "owner": owner, "origin": origin or record_id}
        values = {":rid": {"S": expected_record_id}}
        if ":origin" in condition:
            values[":origin"] = {"S": item["origin"]}
        try:
            self.ddb.put_item(
                TableName=self.table_name,
                Item=to_item(item),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
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

    def release(self, index_pk: str, record_id: str, origin: str | None = None) -> None:
        """Give a unique key back, only if that record still holds it (with `origin`: only if that
        write claimed it, see claim)."""
        condition, values = "record_id = :rid", {":rid": {"S": record_id}}
        if origin is not None:
            condition, values = condition + " AND origin = :origin", values | {":origin": {"S": origin}}
        try:
            self.ddb.delete_item(
                TableName=self.table_name,
                Key=to_item({"pk": index_pk, "sk": INDEX_SK}),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
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
