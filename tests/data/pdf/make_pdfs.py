#!/usr/bin/env python3
"""Writes the PDF fixtures of tests/unit/ingest/test_pdf.c from raw PDF syntax.

two_paragraphs.pdf  one page, a title line and two paragraphs; a second page
                    with a third paragraph (pages end in a form feed)
truncated.pdf       the same file cut in the middle of its first object, so
                    no xref, no trailer and no page can be found
not_a_pdf.pdf       a text file with a .pdf name
Run from this directory: python3 make_pdfs.py
"""


def pdf(pages):
    objs = []
    font = 3 + 2 * len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            if line == "":
                ops.append("0 -30 Td")  # a gap: paragraph break
            else:
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"({esc}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> "
                    f"/Contents {4 + 2 * i} 0 R >>".encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


PAGES = [
    ["Release Notes",
     "",
     "The scheduler now runs missed jobs once at start.",
     "It no longer runs them once per missed slot.",
     "",
     "Search ranks titles above body text."],
    ["Upgrading needs no manual steps."],
]

if __name__ == "__main__":
    good = pdf(PAGES)
    with open("two_paragraphs.pdf", "wb") as f:
        f.write(good)
    with open("truncated.pdf", "wb") as f:
        f.write(good[:40])
    with open("not_a_pdf.pdf", "wb") as f:
        f.write(b"This is plain text, not a PDF.\n")
