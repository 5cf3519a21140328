"""JSON envelopes that carry a known record inside another object, opened before detection.

Two shapes put a CloudTrail record (or any other) one or two objects deep, and both are what a
real AWS pipeline writes, not edge cases:

- EventBridge's "AWS API Call via CloudTrail" events (`{"version": "0", "detail-type": "AWS API
  Call via CloudTrail", "source": "aws.rekognition", ..., "detail": {<CloudTrail record>}}`),
  which a rule forwards to Lambda, SQS, Firehose or CloudWatch Logs;
- the Lambda runtime's JSON log format (`{"timestamp": ..., "level": "INFO", "message": {...},
  "logger": ..., "requestId": ...}`, the "advanced logging controls"), when the handler logs
  the event it was given as an object.

`open_envelope` peels both, up to a few layers, and leaves any other object as it is.
"""

from __future__ import annotations

from typing import Any

#: EventBridge's detail type of CloudTrail-delivered API calls.
CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
_LAMBDA_LOG_KEYS = ("level", "requestId", "logger")
_MAX_LAYERS = 4


def open_envelope(obj: Any) -> Any:
    """The record inside `obj`'s envelopes (EventBridge CloudTrail event, Lambda JSON log line),
    or `obj` itself when it is in none."""
    for _ in range(_MAX_LAYERS):
        if not isinstance(obj, dict):
            return obj
        detail = obj.get("detail")
        if obj.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE and isinstance(detail, dict):
            obj = detail
            continue
        message = obj.get("message")
        if (
            isinstance(message, dict)
            and "timestamp" in obj
            and any(k in obj for k in _LAMBDA_LOG_KEYS)
        ):
            obj = message
            continue
        return obj
    return obj
