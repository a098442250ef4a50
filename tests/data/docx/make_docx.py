#!/usr/bin/env python3
"""Writes the DOCX fixtures of tests/unit/ingest/test_docx.c.

normal.docx       core.xml title, Title/Heading1/Heading2 styles, an outline
                  level, tab and break, a numbered item, a table, a text box,
                  deleted text and a field code (both left out)
title_style.docx  no docProps/core.xml: the Title-style paragraph is the title
corrupt.docx      normal.docx with its central directory overwritten
no_document.docx  a zip without word/document.xml
bomb.docx         word/document.xml inflating to 51 MiB (over the 50 MiB cap)
                  from about 50 KB
doctype.docx      word/document.xml with a DOCTYPE declaring entities
doctype_utf16.docx  the same in UTF-16 (with a BOM): no "<!DOCTYPE" bytes in it
Run from this directory: python3 make_docx.py
"""
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
      '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '</Relationships>')
CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        '<dc:title>Operations Handbook</dc:title><dc:creator>Ada</dc:creator>'
        '</cp:coreProperties>')


def para(text, style=None, extra_ppr="", runs=None):
    ppr = ""
    if style or extra_ppr:
        ppr = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "") + extra_ppr + "</w:pPr>"
    body = runs if runs is not None else f"<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r>"
    return f"<w:p>{ppr}{body}</w:p>"


def document(paras):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{W}" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            "<w:body>" + "".join(paras) + '<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr>'
            "</w:body></w:document>")


NORMAL = [
    para("Handbook", "Title"),
    para("Getting started", "Heading1"),
    para(None, runs='<w:r><w:t>Columns:</w:t><w:tab/><w:t>name</w:t></w:r>'
                    '<w:r><w:br/><w:t>and &amp; value &lt;3</w:t></w:r>'),
    para("On-call rota", "Heading2"),
    para("Page the secondary after 15 minutes.", extra_ppr='<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>'),
    para("Escalations", extra_ppr='<w:outlineLvl w:val="1"/>'),
    para(None, runs='<w:r><w:t xml:space="preserve">Kept </w:t></w:r>'
                    '<w:del w:id="1" w:author="x"><w:r><w:delText>deleted </w:delText></w:r></w:del>'
                    '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
                    '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
                    '<w:r><w:t>text.</w:t></w:r>'),
    '<w:tbl><w:tr><w:tc>' + para("Cell one") + '</w:tc><w:tc>' + para("Cell two") + '</w:tc></w:tr></w:tbl>',
    para(None, runs='<w:r><w:t>Outer.</w:t></w:r><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml">'
                    '<v:textbox><w:txbxContent>' + para("Boxed text.") + '</w:txbxContent></v:textbox>'
                    '</v:shape></w:pict></w:r>'),
    para("   "),
]


def write(name, entries, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(name, "w", compression, compresslevel=9) as z:
        for n, data in entries:
            z.writestr(n, data)


def base(doc, core=True):
    e = [("[Content_Types].xml", CT), ("_rels/.rels", RELS), ("word/document.xml", doc)]
    if core:
        e.append(("docProps/core.xml", CORE))
    return e


if __name__ == "__main__":
    write("normal.docx", base(document(NORMAL)))
    write("title_style.docx", base(document(NORMAL[:3]), core=False))
    data = bytearray(open("normal.docx", "rb").read())
    first = data.find(b"PK\x01\x02")
    data[first:first + 46] = b"\xff" * 46
    open("corrupt.docx", "wb").write(bytes(data))
    write("no_document.docx", [("[Content_Types].xml", CT), ("word/styles.xml", "<x/>")])
    pad = " " * (51 * 1024 * 1024)
    write("bomb.docx", base(document([para("x")]).replace("<w:body>", "<w:body>" + pad, 1), core=False))
    laughs = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>')
    write("doctype.docx", base(laughs, core=False))
    laughs16 = laughs.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    write("doctype_utf16.docx", base(laughs16.encode("utf-16"), core=False))
