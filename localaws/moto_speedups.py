"""Costs of moto that grow with the work, removed without changing what moto answers.

Measured on moto 5.2.5 (see the notes on issue 3):

- S3: every request reloads ``moto.s3.urls`` (``S3Backend._url_module``), recompiling the module
  from source, so that a changed ``MOTO_S3_CUSTOM_ENDPOINTS`` takes effect. That is about a
  millisecond of every S3 call. Here the module is reloaded only when that variable changed.
- SQS: ``send_message`` reads ``queue.attributes`` for one flag, and building that dictionary
  counts every message in the queue, so sending n messages costs n² (a run announcing 2,000
  e-mails spent 27 ms per invoice in SendMessageBatch). Here, while ``send_message`` checks a
  message before it adds it to the queue, a queue's ``attributes`` holds just the content-based
  deduplication flag it reads; adding the message (and any event source it triggers) sees them all.
- SQS: ``receive_message`` checks each message it hands out against the retention period by
  asking for the queue's attributes, which again counts the whole queue: receiving a batch of ten
  from a queue of 2,000 took a third of a second, and the demo's sender drained 8 e-mails a second.
  Here the check reads the retention period from the queue itself.
- DynamoDB: a query of a table's own key sorts every item of the table to pick those of one
  partition (``Table.all_items``), so a query costs in proportion to the table (65 ms a query in
  the demo). Here, while a table's key is queried, ``all_items`` yields that partition alone, in
  the same order.
- DynamoDB: a query of an index sorts every item of the table too, then keeps those whose index
  key matches and sorts them again in index order (the demo's DATEV export spent 41 of its 50 s
  in that first sort). Here, while an index is queried, ``all_items`` yields only the items whose
  attributes equal the query's index key conditions, in table order; moto checks and sorts them
  as before. Scans are unchanged.

- DynamoDB: moto turns every answer into JSON by walking the botocore shape of the answer and,
  for each member of each structure, trying several spellings of its name on the value. An item
  is a map of attribute values, and each attribute value is a structure of ten members, so an
  item of 40 attributes costs 400 such lookups: serializing the answers to a shard's queries was a
  fifth of the invoice bench's time. Here an attribute value that is a plain dictionary of its
  wire keys, as all of moto's DynamoDB answers hold them, is written out directly, with the same
  conversions moto applies (text, base64 for binary values, members that are ``None`` left out).

- DynamoDB: every attribute an item is built with adds up the size of all attributes before it,
  to keep items within 400 KB (``LimitedSizeDict``), so building an item of n attributes costs
  n² size computations: a tenth of each PutItem of an invoice. Here a new item adds them up once,
  after the last attribute, and refuses the same items (sizes only grow as attributes are added).
- Every client request is signed (SigV4: a canonical request, hashes and HMACs), a seventh of
  the client's time of an S3 PUT; moto checks no signature, and reads only the credential's
  access key and region from the ``Authorization`` header. Here requests carry that header with
  the access key and region the signer would scope them to, and no signature. Presigned URLs
  are signed as before: they are made apart from requests (``generate_presigned_url``).

- Every request lists the functions of its response class with ``inspect.getmembers`` to check
  that the action is one (``method_names_from_class``), a tenth of a millisecond a request. The
  functions of a class do not change, so here the list is made once per class.

These replace private parts of moto: like ``lambda_runtime`` they are tied to the tested range of
moto versions and covered by tests that compare the answers with and without them.
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable
from importlib import reload
from types import ModuleType
from typing import Any

import moto.core.responses as moto_responses
from botocore.signers import RequestSigner
from moto.core.serialize import BaseJSONSerializer
from moto.core.utils import unix_time
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.s3.models import S3Backend
from moto.sqs.models import Message, Queue, SQSBackend

from localaws.lambda_runtime import check_moto_version

# What moto had under each replaced attribute, as found in the owning class's __dict__.
_originals: dict[tuple[Any, str], Any] = {}
_method_names: dict[type, list[str]] = {}
_sending = threading.local()
_querying = threading.local()
_url_modules: dict[str | None, ModuleType] = {}
_QUERY_SIGNATURE = inspect.signature(Table.query)


def _original(owner: Any, name: str) -> Any:
    return _originals[owner, name]


def _replacements() -> list[tuple[Any, str, Any]]:
    return [
        (S3Backend, "_url_module", property(_s3_url_module)),
        (Queue, "attributes", property(_queue_attributes)),
        (SQSBackend, "send_message", _flagged(SQSBackend.send_message, active=True)),
        (Queue, "add_message", _flagged(Queue.add_message, active=False)),
        (SQSBackend, "is_message_valid_based_on_retention_period", _within_retention),
        (Table, "query", _partition_query),
        (Table, "all_items", _all_items),
        (BaseJSONSerializer, "_serialize_type_structure", _json_structure),
        (moto_responses, "method_names_from_class", _method_names_once),
        (Item, "__init__", _item_sized_once),
        (RequestSigner, "handler", _credential_scope_only),
    ]


def install() -> None:
    check_moto_version()
    if _originals:
        return

    for owner, name, replacement in _replacements():
        _originals[owner, name] = owner.__dict__[name]
        setattr(owner, name, replacement)


def uninstall() -> None:
    for (owner, name), original in list(_originals.items()):
        setattr(owner, name, original)
    _originals.clear()


def is_installed() -> bool:
    return bool(_originals)


def _s3_url_module(_backend: S3Backend) -> ModuleType:
    import moto.s3.urls as urls

    endpoints = os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS")
    if endpoints not in _url_modules:
        _url_modules.clear()
        _url_modules[endpoints] = reload(urls)
    return _url_modules[endpoints]


def _queue_attributes(queue: Queue) -> dict[str, Any]:
    if not getattr(_sending, "active", False):
        full: dict[str, Any] = _original(Queue, "attributes").fget(queue)
        return full
    if not queue.fifo_queue:
        return {}
    flag = getattr(queue, "content_based_deduplication", False)
    return {"ContentBasedDeduplication": str(flag).lower() if isinstance(flag, bool) else flag}


def _within_retention(backend: SQSBackend, queue_name: str, message: Message) -> bool:
    queue: Any = backend.get_queue(queue_name)
    retention_seconds = int(queue.message_retention_period)
    sent_seconds = int(message.sent_timestamp or 0) / 1000
    return retention_seconds + sent_seconds > unix_time()


def _partition_query(table: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """A query of the table's own key: ``all_items`` of this thread sees the partition alone."""
    query = _original(Table, "query")
    arguments = _QUERY_SIGNATURE.bind(table, hash_key, *args, **kwargs).arguments
    if arguments.get("index_name"):
        hint: tuple[Any, ...] = (table, None, tuple(arguments.get("hash_key_conditions") or ()))
    elif hash_key is None:
        return query(table, hash_key, *args, **kwargs)
    else:
        hint = (table, hash_key, ())

    outer = getattr(_querying, "partition", None)
    _querying.partition = hint
    try:
        return query(table, hash_key, *args, **kwargs)
    finally:
        _querying.partition = outer


def _all_items(table: Table) -> list[Any]:
    hint = getattr(_querying, "partition", None)
    if hint is None or hint[0] is not table:
        items: list[Any] = _original(Table, "all_items")(table)
        return items

    if hint[1] is None:
        return _index_candidates(table, hint[2])
    partition = table.items.get(hint[1])
    if partition is None:
        return []
    if not table.range_key_attr:
        return [partition]
    return sorted(partition.values(), key=lambda item: (item.hash_key, item.range_key))


def _index_candidates(table: Table, conditions: tuple[tuple[str, Any], ...]) -> list[Any]:
    """Items whose attributes pass the index query's key conditions as moto checks them."""
    if table.range_key_attr:
        items = [item for partition in table.items.values() for item in partition.values()]
    else:
        items = list(table.items.values())
    for name, expected in conditions:
        items = [item for item in items if (value := item.attrs.get(name)) and value == expected]
    return sorted(items, key=_table_order)


# moto's bound, between the measured 409 and 410 KB of DynamoDB (LimitedSizeDict.__setitem__).
_ITEM_SIZE_LIMIT = 405_000


def _item_sized_once(
    item: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    item.hash_key = hash_key
    item.range_key = range_key
    values = {name: DynamoType(value) for name, value in attrs.items()}
    if sum(bytesize(name) + value.size() for name, value in values.items()) > _ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    item.attrs = LimitedSizeDict()
    dict.update(item.attrs, values)


def _credential_scope_only(
    signer: RequestSigner, operation_name: str | None = None, request: Any = None, **_: Any
) -> None:
    """What moto reads of a signature, for the region and service the signer would sign for."""
    signing = request.context.get("signing") or {}
    region = signing.get("region") or signer.region_name
    service = signing.get("signing_name") or signer.signing_name
    credentials = getattr(signer, "_credentials", None)
    access_key = credentials.get_frozen_credentials().access_key if credentials else "anonymous"
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{_SCOPE_DATE}/{region}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=unsigned"
    )
    if service == "s3":
        # As S3's signer declares the payload: moto unwraps a body sent in aws-chunked encoding
        # (a checksum in its trailer) only when this header says so.
        chunked = "X-Amz-Trailer" in request.headers
        request.headers["X-Amz-Content-SHA256"] = _CHUNKED_PAYLOAD if chunked else _UNSIGNED_PAYLOAD


_SCOPE_DATE = "20260101"
_CHUNKED_PAYLOAD = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def _method_names_once(response_class: type) -> list[str]:
    names = _method_names.get(response_class)
    if names is None:
        names = _original(moto_responses, "method_names_from_class")(response_class)
        _method_names[response_class] = names
    return names


_ATTRIBUTE_VALUE_KINDS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_KIND_SET = frozenset(_ATTRIBUTE_VALUE_KINDS)
_DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


def _json_structure(
    serializer: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
) -> None:
    if (
        key
        and shape.name == "AttributeValue"
        and serializer.operation_model.service_model.service_name in _DYNAMODB_SERVICES
        and _plain_attribute_value(serializer, value)
    ):
        serialized[shape.serialization.get("name", key)] = _attribute_value(serializer, value)
        return
    _original(BaseJSONSerializer, "_serialize_type_structure")(
        serializer, serialized, value, shape, key
    )


def _plain_attribute_value(serializer: BaseJSONSerializer, value: Any) -> bool:
    transformers = getattr(serializer._value_picker, "response_transformers", None)
    return type(value) is dict and value.keys() <= _KIND_SET and not transformers


def _attribute_value(serializer: BaseJSONSerializer, value: dict[str, Any]) -> Any:
    """One attribute value as moto's shape walk writes it, from a dictionary of wire keys."""
    written: dict[str, Any] = {}
    for kind in _ATTRIBUTE_VALUE_KINDS:
        content = value.get(kind)
        if content is not None:
            written[kind] = _attribute_content(serializer, kind, content)
    return written


def _attribute_content(serializer: BaseJSONSerializer, kind: str, content: Any) -> Any:
    if kind in ("S", "N"):
        return _text(content)
    if kind in ("SS", "NS"):
        return [_text(member) for member in content]
    if kind == "B":
        return serializer._base64(content)
    if kind == "BS":
        return [serializer._base64(member) for member in content]
    if kind == "M" and "" in content:  # moto writes the members of a nameless one in the map
        return _by_moto(serializer, {"M": content})["M"]
    if kind == "M":
        return {
            name: _nested(serializer, member)
            for name, member in content.items()
            if member is not None
        }
    if kind == "L":
        return [_nested(serializer, member) for member in content]
    return content


def _nested(serializer: BaseJSONSerializer, member: Any) -> Any:
    if member is None or not _plain_attribute_value(serializer, member):
        return _by_moto(serializer, member)
    return _attribute_value(serializer, member)


def _by_moto(serializer: BaseJSONSerializer, value: Any) -> Any:
    wrapper: dict[str, Any] = {}
    shape = serializer.operation_model.service_model.shape_for("AttributeValue")
    _original(BaseJSONSerializer, "_serialize_type_structure")(
        serializer, wrapper, value, shape, "AttributeValue"
    )
    return wrapper.get("AttributeValue", value)


def _text(content: Any) -> Any:
    """moto's string conversion: everything as text, except ``None`` and empty containers."""
    return str(content) if content not in (None, {}, []) else content


def _table_order(item: Any) -> Any:
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


def _flagged(method: Callable[..., Any], *, active: bool) -> Callable[..., Any]:
    """``method`` with the sending flag set to ``active`` while it runs."""

    def flagged(owner: Any, *args: Any, **kwargs: Any) -> Any:
        outer = getattr(_sending, "active", False)
        _sending.active = active
        try:
            return method(owner, *args, **kwargs)
        finally:
            _sending.active = outer

    return flagged
