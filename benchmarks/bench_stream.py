"""Benchmark STREAM against raw ChaCha20-Poly1305 from `cryptography`; prints MB/s.

    .venv/bin/python benchmarks/bench_stream.py [size_mib]   (default 256)

raw_memory:    ChaCha20Poly1305.encrypt over the 64 KiB chunks of an in-memory buffer (no I/O).
stream_memory: encrypt_stream from that buffer (BytesIO) into a sink that discards.
raw_file:      ChaCha20Poly1305.encrypt per 64 KiB chunk, plain read()/write() file to file.
stream_file:   encrypt_stream / decrypt_stream, file to file.
Each figure is the best of 5 runs (the machine is shared; the best run is the least disturbed).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from facevault.core.stream import CHUNK_SIZE, decrypt_stream, drain, encrypt_stream


def _best(*fns, repeats: int = 5) -> list[float]:
    """Best time of each function, runs interleaved so load spikes hit all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main() -> None:
    size = int(sys.argv[1]) * 1024 * 1024 if len(sys.argv) > 1 else 256 * 1024 * 1024
    key = os.urandom(32)
    aead = ChaCha20Poly1305(key)
    mb = size / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        plain, sealed, back = (os.path.join(tmp, n) for n in ("plain", "sealed", "back"))
        with open(plain, "wb") as f:
            for _ in range(size // (16 * 1024 * 1024)):
                f.write(os.urandom(16 * 1024 * 1024))
        with open(plain, "rb") as f:
            buffer = f.read()
        view = memoryview(buffer)
        nonce = bytes(12)

        class Sink(io.RawIOBase):
            def writable(self) -> bool:
                return True

            def write(self, b) -> int:  # type: ignore[no-untyped-def, override]
                return len(b)

        def raw_memory() -> None:
            for i in range(0, size, CHUNK_SIZE):
                aead.encrypt(nonce, view[i : i + CHUNK_SIZE], None)

        def stream_memory() -> None:
            drain(encrypt_stream(key, io.BytesIO(buffer), Sink()))

        def raw_file() -> None:
            with open(plain, "rb") as src, open(sealed + ".raw", "wb") as dst:
                while data := src.read(CHUNK_SIZE):
                    dst.write(aead.encrypt(nonce, data, None))

        def enc() -> None:
            with open(plain, "rb") as src, open(sealed, "wb") as dst:
                drain(encrypt_stream(key, src, dst))

        def dec() -> None:
            with open(sealed, "rb") as src, open(back, "wb") as dst:
                drain(decrypt_stream(key, src, dst))

        t_mem, t_smem, t_raw, t_enc, t_dec = _best(raw_memory, stream_memory, raw_file, enc, dec)
        del view
        with open(plain, "rb") as a, open(back, "rb") as b:
            assert a.read() == b.read()
    print(f"size {size // (1024 * 1024)} MiB")
    print(f"raw_memory  {mb / t_mem:8.1f} MB/s")
    print(f"stream_mem  {mb / t_smem:8.1f} MB/s  ({t_mem / t_smem:.0%} of raw_memory)")
    print(f"raw_file    {mb / t_raw:8.1f} MB/s")
    print(f"stream enc  {mb / t_enc:8.1f} MB/s  ({t_mem / t_enc:.0%} of raw_memory, "
          f"{t_raw / t_enc:.0%} of raw_file)")
    print(f"stream dec  {mb / t_dec:8.1f} MB/s  ({t_mem / t_dec:.0%} of raw_memory, "
          f"{t_raw / t_dec:.0%} of raw_file)")


if __name__ == "__main__":
    main()
