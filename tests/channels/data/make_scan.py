"""How tests/channels/data/lettre-scannee.png was made (run once; kept for the record): a short
French letter at about 300 dpi on grey paper, slightly rotated, with scanner noise."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path(__file__).with_name("lettre-scannee.png")

LINES = [
    ("Monsieur Gérard Lemoine", 0),
    ("12 avenue Jean-Jaurès", 0),
    ("49000 Testville", 0),
    ("", 0),
    ("Madame la Maire", 1250),
    ("Mairie de Testville", 1250),
    ("", 0),
    ("Testville, le 3 novembre 2026", 1250),
    ("", 0),
    ("Objet : Demande d'élagage des platanes avenue Jean-Jaurès", 0),
    ("", 0),
    ("Madame la Maire,", 0),
    ("", 0),
    ("Les branches des platanes situés devant le numéro 12 de", 0),
    ("l'avenue Jean-Jaurès touchent désormais les façades et", 0),
    ("privent les logements de lumière. Lors du dernier orage,", 0),
    ("plusieurs branches sont tombées sur le trottoir.", 0),
    ("", 0),
    ("Je vous prie de bien vouloir faire procéder à leur élagage", 0),
    ("avant l'hiver.", 0),
    ("", 0),
    ("Veuillez agréer, Madame la Maire, l'expression de mes", 0),
    ("salutations distinguées.", 0),
    ("", 0),
    ("Gérard Lemoine", 1250),
]


def main() -> None:
    random.seed(7)
    width, height = 2480, 3508  # A4 at 300 dpi
    page = Image.new("L", (width, height), 228)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONTS / "DejaVuSerif.ttf"), 44)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSerif-Bold.ttf"), 44)
    y = 260
    for text, x in LINES:
        if text:
            draw.text((220 + x, y), text, fill=35, font=bold if text.startswith("Objet") else font)
        y += 78
    # Scanner noise: speckles, a slight blur, a 1.5° skew, then paper grey again at the edges.
    for _ in range(60_000):
        px, py = random.randrange(width), random.randrange(height)
        page.putpixel((px, py), random.randint(150, 255))
    page = page.filter(ImageFilter.GaussianBlur(0.8))
    page = page.rotate(1.5, resample=Image.BICUBIC, expand=False, fillcolor=210)
    page = page.resize((width * 2 // 3, height * 2 // 3), Image.LANCZOS)  # ~200 dpi stored
    page.save(OUT, "PNG", optimize=True, dpi=(200, 200))


if __name__ == "__main__":
    main()
