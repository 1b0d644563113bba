"""Staff uploads that go straight from the browser to S3 in parts (Uppy's multipart protocol).

`multipart` creates, signs, lists, completes and aborts uploads; `verify` checks a completed
object before a film points at it; `status` tells the admin how processing goes; `views`
are the staff-only endpoints the admin pages call.
"""
