"""Frame sources: every kind of input, every way it can be broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facevault.errors import CameraError, SourceError, UsageError
from facevault.vision import sources
from facevault.vision.sources import CameraSource, Frame, ImageListSource, open_source
from tests.helpers.media import jpeg_with_orientation, make_video, shared_photos

cv2 = pytest.importorskip("cv2")

PHOTOS = shared_photos()
needs_photos = pytest.mark.skipif(
    not PHOTOS, reason="shared test photos absent (set FACEVAULT_TEST_DATA to the shared data folder)"
)


def _pattern(h: int = 120, w: int = 160) -> np.ndarray:
    """An asymmetric BGR test picture: a red block top-left, a green block bottom-right."""
    img = np.full((h, w, 3), 90, np.uint8)
    img[: h // 4, : w // 4] = (0, 0, 255)
    img[-h // 4 :, -w // 4 :] = (0, 255, 0)
    return img


def _write(path: Path, img: np.ndarray, ext: str = ".png") -> Path:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def _only_frame(spec: str | Path, **kw: int) -> Frame:
    with open_source(str(spec), **kw) as src:
        frames = list(src)
    assert len(frames) == 1
    return frames[0]


def _check_frame(frame: Frame) -> None:
    assert frame.rgb.dtype == np.uint8 and frame.rgb.ndim == 3 and frame.rgb.shape[2] == 3
    assert frame.rgb.flags["C_CONTIGUOUS"]


def test_importing_sources_does_not_import_cv2() -> None:
    code = "import sys, facevault.vision.sources; sys.exit('cv2' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ---------------------------------------------------------------- single images


def test_png_is_rgb_with_right_colours(tmp_path: Path) -> None:
    frame = _only_frame(_write(tmp_path / "p.png", _pattern()))
    _check_frame(frame)
    assert frame.rgb.shape == (120, 160, 3)
    assert tuple(frame.rgb[0, 0]) == (255, 0, 0)  # red stays red after BGR->RGB
    assert tuple(frame.rgb[-1, -1]) == (0, 255, 0)
    assert frame.index == 0 and frame.origin == str(tmp_path / "p.png")


def test_grayscale_becomes_rgb(tmp_path: Path) -> None:
    gray = cv2.cvtColor(_pattern(), cv2.COLOR_BGR2GRAY)
    frame = _only_frame(_write(tmp_path / "g.png", gray))
    _check_frame(frame)
    assert np.array_equal(frame.rgb[:, :, 0], gray) and np.array_equal(frame.rgb[:, :, 2], gray)


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    bgra = np.dstack([_pattern(), np.full((120, 160), 255, np.uint8)])
    bgra[60:, :80, 3] = 0  # transparent bottom-left
    bgra[:60, 80:, 3] = 128  # half-transparent grey (90) top-right
    frame = _only_frame(_write(tmp_path / "a.png", bgra))
    _check_frame(frame)
    assert tuple(frame.rgb[100, 10]) == (255, 255, 255)
    assert tuple(frame.rgb[0, 0]) == (255, 0, 0)
    assert abs(int(frame.rgb[10, 120, 0]) - round((90 * 128 + 255 * 127) / 255)) <= 1


def test_16bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    img16 = (_pattern().astype(np.uint16) * 257)
    img16[50, 50] = (100 * 257, 0, 65535)
    img16[51, 51] = (32768, 32768, 32768)  # a 16-bit value between two 8-bit steps
    frame = _only_frame(_write(tmp_path / "d.png", img16))
    assert frame.rgb.dtype == np.uint8
    assert tuple(frame.rgb[50, 50]) == (255, 0, 100)
    assert tuple(frame.rgb[0, 0]) == (255, 0, 0)
    assert tuple(frame.rgb[60, 60]) == (90, 90, 90)
    assert tuple(frame.rgb[51, 51]) == (128, 128, 128)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_opencv(tmp_path: Path, orientation: int) -> None:
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(jpeg_with_orientation(_pattern(), orientation))
    frame = _only_frame(path)
    expected_hw = (120, 160) if orientation <= 4 else (160, 120)
    assert frame.rgb.shape[:2] == expected_hw
    reference = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert reference.shape == frame.rgb.shape  # OpenCV's own EXIF handling agrees
    assert np.abs(reference.astype(int) - frame.rgb.astype(int)).max() <= 2


def test_exif_rotated_jpeg_comes_out_upright(tmp_path: Path) -> None:
    upright = _pattern()
    stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)  # how a phone stores it
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_with_orientation(stored, 6))  # 6: rotate 90 CW to display
    frame = _only_frame(path)
    assert frame.rgb.shape == (120, 160, 3)
    assert np.abs(frame.rgb.astype(int)[0, 0] - (255, 0, 0)).max() < 40  # red is top-left again


def test_huge_jpeg_is_downscaled(tmp_path: Path) -> None:
    big = cv2.resize(_pattern(), (8000, 6000), interpolation=cv2.INTER_NEAREST)
    path = _write(tmp_path / "big.jpg", big, ".jpg")
    del big
    frame = _only_frame(path, max_side=1920)
    assert frame.rgb.shape == (1440, 1920, 3)
    assert np.abs(frame.rgb.astype(int)[10, 10] - (255, 0, 0)).max() < 40


def test_large_png_is_downscaled_too(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.png", cv2.resize(_pattern(), (3000, 1000)))
    frame = _only_frame(path, max_side=600)
    assert frame.rgb.shape == (200, 600, 3)


def test_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "Фото ü"
    folder.mkdir()
    frame = _only_frame(_write(folder / "лицо.png", _pattern()))
    assert frame.rgb.shape == (120, 160, 3)


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.jpg", b"", "empty"),
        ("corrupt.png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, "corrupt"),
        ("notes.jpg", b"this is text, not a photo\n" * 10, "not an image"),
    ],
)
def test_bad_single_image_raises_source_error(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=words) as info, open_source(str(path)) as src:
        list(src)
    assert info.value.hint


def test_truncated_jpeg_is_rejected_not_half_grey(tmp_path: Path) -> None:
    data = _write(tmp_path / "full.jpg", cv2.resize(_pattern(), (640, 480)), ".jpg").read_bytes()
    path = tmp_path / "half.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="truncated"), open_source(str(path)) as src:
        list(src)


def test_truncated_png_is_rejected(tmp_path: Path) -> None:
    data = _write(tmp_path / "full.png", cv2.resize(_pattern(), (640, 480))).read_bytes()
    path = tmp_path / "half.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError), open_source(str(path)) as src:
        list(src)


def test_image_without_extension_is_sniffed(tmp_path: Path) -> None:
    path = _write(tmp_path / "IMG_0001", _pattern())
    assert _only_frame(path).rgb.shape == (120, 160, 3)


def test_unknown_file_is_source_error(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SourceError, match="not an image or video"):
        open_source(str(path))


# ---------------------------------------------------------------- folders and lists


def test_folder_natural_sort_and_skips(tmp_path: Path) -> None:
    for name in ("img10.png", "img2.png", "img1.png"):
        _write(tmp_path / name, _pattern())
    (tmp_path / "readme.txt").write_text("hello")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 nope")
    (tmp_path / "sub").mkdir()
    with open_source(str(tmp_path)) as src:
        frames = list(src)
        skipped = dict((Path(o).name, r) for o, r in src.skipped)
    assert [Path(f.origin).name for f in frames] == ["img1.png", "img2.png", "img10.png"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert all(b.timestamp_ms > a.timestamp_ms for a, b in zip(frames, frames[1:]))
    assert set(skipped) == {"readme.txt", "broken.jpg", "sub"}
    assert "not an image" in skipped["readme.txt"]


def test_empty_folder_is_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="empty"):
        open_source(str(tmp_path))


def test_folder_without_readable_image_is_source_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(SourceError):
        open_source(str(tmp_path))
    (tmp_path / "b.jpg").write_bytes(b"")
    with pytest.raises(SourceError, match="No readable image"), open_source(str(tmp_path)) as src:
        list(src)


def test_image_list_source(tmp_path: Path) -> None:
    good = _write(tmp_path / "x.png", _pattern())
    missing = tmp_path / "gone.png"
    src = ImageListSource([good, missing, good])
    frames = list(src)
    assert len(frames) == 2 and src.skipped[0][0] == str(missing)
    assert "No such file" in src.skipped[0][1]
    assert list(src)[1].index == 1  # can be read again
    assert "images" in src.describe()
    with pytest.raises(SourceError):
        ImageListSource([])


@needs_photos
def test_real_photos_folder() -> None:
    folder = PHOTOS[0].parent
    with open_source(str(folder), max_side=1024) as src:
        frames = list(src)
    assert len(frames) == len(list(folder.glob("*.jpg")))
    for f in frames:
        _check_frame(f)
        assert max(f.rgb.shape[:2]) <= 1024


# ---------------------------------------------------------------- videos


def test_one_frame_video(tmp_path: Path) -> None:
    out = tmp_path / "one.avi"
    assert make_video([_pattern()], out) == 1
    with open_source(str(out)) as src:
        assert src.is_stream and not src.is_live
        frames = list(src)
    assert len(frames) == 1
    _check_frame(frames[0])
    assert frames[0].rgb.shape == (480, 640, 3) and frames[0].origin == f"{out}#0"


@needs_photos
def test_video_from_photos_frame_count_and_timestamps(tmp_path: Path) -> None:
    out = tmp_path / "clip.avi"
    written = make_video(PHOTOS[:4], out, fps=10, frames_per_image=3)
    assert written == 12
    with open_source(str(out)) as src:
        frames = list(src)
        assert "video" in src.describe()
    assert len(frames) == 12
    assert [f.index for f in frames] == list(range(12))
    stamps = [f.timestamp_ms for f in frames]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    assert stamps[0] == 0 and abs(stamps[-1] - 1100) <= 2  # 10 fps
    with pytest.raises(UsageError):
        list(src)  # streams are read once


def test_corrupt_and_empty_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    for path in (empty, junk):
        with pytest.raises(SourceError):
            open_source(str(path))


# ---------------------------------------------------------------- cameras


class FakeCapture:
    """A capture that delivers `frames` frames, then read() fails."""

    def __init__(self, frames: int, opened: bool = True) -> None:
        self.left, self.opened, self.released = frames, opened, False
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, _pattern(480, 640)

    def release(self) -> None:
        self.released = True


def test_camera_lost_mid_stream_raises() -> None:
    fake = FakeCapture(frames=3)
    src = CameraSource(0, _capture_factory=lambda target, api: fake)
    assert src.is_live and src.is_stream and src.spec == "camera:0"
    assert fake.props[cv2.CAP_PROP_FRAME_WIDTH] == 640
    got: list[Frame] = []
    with pytest.raises(CameraError, match="camera stopped delivering frames"), src:
        for frame in src:
            got.append(frame)
    assert len(got) == 3 and fake.released
    assert tuple(got[0].rgb[0, 0]) == (255, 0, 0)
    assert all(b.timestamp_ms > a.timestamp_ms for a, b in zip(got, got[1:]))


def test_camera_that_never_opens_or_never_delivers() -> None:
    with pytest.raises(CameraError, match="No camera at index 3"):
        CameraSource(3, _capture_factory=lambda t, a: FakeCapture(1, opened=False))
    with pytest.raises(CameraError, match="No camera at index 3"):
        CameraSource(3, _capture_factory=lambda t, a: FakeCapture(0))


def test_camera_that_hangs_times_out() -> None:
    import threading

    release = threading.Event()

    class Hanging(FakeCapture):
        def read(self) -> tuple[bool, np.ndarray | None]:
            release.wait(10)
            return False, None

    with pytest.raises(CameraError, match="did not deliver"):
        CameraSource(0, open_timeout_s=0.2, _capture_factory=lambda t, a: Hanging(1))
    release.set()


def test_missing_real_camera_fails_fast() -> None:
    with pytest.raises(CameraError, match="No camera at index 7") as info:
        open_source("camera:7")
    assert info.value.hint


# ---------------------------------------------------------------- specs


def test_nonexistent_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="No such file or folder"):
        open_source(str(tmp_path / "nope.jpg"))


@pytest.mark.parametrize("spec", ["", "camera:", "camera:x", "rtsp://host/stream", "webcam:0"])
def test_bad_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError):
        open_source(spec)


def test_bad_max_side() -> None:
    with pytest.raises(UsageError):
        open_source("camera:0", max_side=0)


def test_public_names() -> None:
    for name in sources.__all__:
        assert hasattr(sources, name)


def test_video_without_known_extension_is_found_by_failing_image_decode(tmp_path: Path) -> None:
    out = tmp_path / "clip.avi"
    make_video([_pattern(), _pattern()], out)
    renamed = out.rename(tmp_path / "recording.bin")
    with open_source(str(renamed)) as src:
        assert src.is_stream
        assert len(list(src)) == 2
