"""Reading a scanned letter: Tesseract (French) on images; a PDF's own text layer when it has
one (`pdftotext`), else its pages rasterised at 300 dpi (`pdftoppm`) and read one by one.

Every failure is an OcrError whose message is French and says why, for the list of letters:
the worker stores it and never retries what cannot succeed (an unreadable file)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytesseract
from PIL import Image, UnidentifiedImageError

LANG = "fra"
MAX_PAGES = 20
DPI = 300
# A PDF whose text layer has fewer letters than this is a scan (a page number, a stamp).
MIN_TEXT_LAYER = 20
PAGE_TIMEOUT = 120  # seconds per page for Tesseract, per call for poppler
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp", "image/webp")


class OcrError(Exception):
    """The text could not be read; ``str(error)`` is a French reason for staff."""


class OcrUnavailable(OcrError):
    """The server lacks a tool (Tesseract, its French data, poppler): worth retrying once the
    administrator has installed it."""


def read_text(path: str | Path, content_type: str) -> str:
    """The text of the file at ``path`` (a PDF or an image)."""
    if content_type == "application/pdf":
        return _read_pdf(Path(path))
    if content_type in IMAGE_TYPES:
        try:
            with Image.open(path) as image:
                return _tesseract(image)
        except (UnidentifiedImageError, OSError) as error:
            if isinstance(error, OcrError):
                raise
            raise OcrError("L'image n'a pas pu être ouverte : le fichier est illisible.") from error
    raise OcrError(f"Ce type de fichier ({content_type}) ne se lit pas automatiquement.")


def _tesseract(image: Image.Image) -> str:
    try:
        frames = getattr(image, "n_frames", 1)
        texts = []
        for frame in range(min(frames, MAX_PAGES)):
            image.seek(frame)
            texts.append(
                pytesseract.image_to_string(image.convert("RGB"), lang=LANG, timeout=PAGE_TIMEOUT)
            )
        return "\n".join(texts)
    except pytesseract.TesseractNotFoundError as error:
        raise OcrUnavailable(
            "Tesseract n'est pas installé sur le serveur : le texte n'a pas pu être lu."
        ) from error
    except pytesseract.TesseractError as error:
        if "Failed loading language" in str(error) or "traineddata" in str(error):
            raise OcrUnavailable(
                "Les données françaises de Tesseract (tesseract-ocr-fra) manquent sur le serveur."
            ) from error
        raise OcrError("Tesseract n'a pas pu lire ce fichier.") from error
    except RuntimeError as error:  # pytesseract's timeout
        raise OcrError("La lecture a pris trop de temps : le fichier est trop lourd.") from error


def _run(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(  # noqa: S603 (fixed programs, the path is ours)
            command, capture_output=True, timeout=PAGE_TIMEOUT * MAX_PAGES, check=True
        )
    except FileNotFoundError as error:
        raise OcrUnavailable(
            "Les outils PDF (poppler-utils) ne sont pas installés sur le serveur."
        ) from error
    except subprocess.CalledProcessError as error:
        raise OcrError("Le PDF est illisible ou protégé : son texte n'a pas pu être lu.") from error
    except subprocess.TimeoutExpired as error:
        raise OcrError("La lecture a pris trop de temps : le PDF est trop lourd.") from error


def _read_pdf(path: Path) -> str:
    layer = _run(["pdftotext", "-q", "-l", str(MAX_PAGES), "-enc", "UTF-8", str(path), "-"])
    text = layer.stdout.decode("utf-8", errors="replace")
    if sum(c.isalpha() for c in text) >= MIN_TEXT_LAYER:
        return text
    with tempfile.TemporaryDirectory(prefix="grc-ocr-") as folder:
        prefix = Path(folder) / "page"
        _run(
            ["pdftoppm", "-q", "-r", str(DPI), "-l", str(MAX_PAGES), "-png", str(path), str(prefix)]
        )
        pages = sorted(Path(folder).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if not pages:
            raise OcrError("Le PDF ne contient aucune page lisible.")
        texts = []
        for page in pages:
            with Image.open(page) as image:
                texts.append(_tesseract(image))
        return "\n".join(texts)
