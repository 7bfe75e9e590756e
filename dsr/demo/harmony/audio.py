"""The audio of the demo's recorded calls: tiny, real WAV files, so an erasure can be seen to delete them.

Harmony's contact centre keeps each call's audio in object storage at the recording's ``storage_uri``; the
demo writes a short tone per call (a real, playable WAV, made with the standard library's ``wave``) into
the local object store, so that erasing a recording visibly removes a file (issue 13, item 5).
"""

from __future__ import annotations

import io
import math
import wave

RATE = 8000  # samples per second: telephone quality
SECONDS = 0.4


def recording_wav(seq: int) -> bytes:
    """A 0.4-second mono tone, 8-bit at 8 kHz (about 3 KB); its pitch differs per recording ``seq``."""
    frequency = 330 + 55 * (seq % 8)
    count = int(RATE * SECONDS)
    fade = RATE // 50  # 20 ms in and out, so the tone does not click
    samples = bytearray()
    for n in range(count):
        envelope = min(1.0, n / fade, (count - n) / fade)
        samples.append(128 + round(90 * envelope * math.sin(2 * math.pi * frequency * n / RATE)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(RATE)
        wav.writeframes(bytes(samples))
    return out.getvalue()
