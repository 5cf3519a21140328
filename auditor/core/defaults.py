"""Defaults and ranges that more than one layer must agree on, in one place.

The command line builds its choices and ranges from these (click `IntRange`, `FloatRange`), the
option models check the same bounds, and `verify` re-checks a stored run's settings against
them, so a value the command line refuses can never reach the engine from a report either.
"""

from __future__ import annotations

#: face_recognition's matching convention (dlib's LFW operating point): a probe photo matches a
#: face when their descriptors are at most this far apart.
PROBE_TOLERANCE = 0.6
#: Probe tolerances outside this range are refused (0 matches nothing; 1 matches anyone).
PROBE_TOLERANCE_RANGE = (0.0, 1.0)

#: HOG upsampling: 1 is face_recognition's default (faces down to ~40 px).
UPSAMPLE = 1
#: Each step quadruples the pixels scanned; past 3 a 4K frame needs gigabytes.
MAX_UPSAMPLE = 3

#: Seconds a Dask cluster may stay silent (connecting, first worker, and mid-audit: no answer
#: from the scheduler, or no finished task and no worker heartbeat) before the audit stops;
#: Dask's own connect timeout (`distributed.comm.timeouts.connect`) is 30 s too.
SCHEDULER_TIMEOUT = 30.0
