"""The catalogue of problems: every code the reader and the merge report, with its severity
and its message templates in Thai and English, in one place.

A problem says where (file, sheet, cell), what is wrong and how to fix it. Codes are stable
slugs; tests build the expected text from the same templates. Each code has a Thai template
and an English one with the same fields: a field the program composes (a detail of a refused
file, a rule, a reason) is given as ``words.Words`` and put in each template in its language;
a label or a value found in the file is the same in both. Every ``Problem`` carries both
messages (``message_th``, ``message_en``); whoever shows it picks one (``Problem.text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Literal

import pandas as pd

from .words import Lang, Words, in_lang

Severity = Literal["error", "warning"]

PROBLEM_COLUMNS = ("file", "agency_code", "sheet", "cell", "severity", "code", "message_th",
                   "message_en")


@dataclass(frozen=True, slots=True)
class Code:
    """One kind of problem: its slug, default severity and templates (same fields)."""

    slug: str
    severity: Severity
    template_en: str
    template_th: str
    rejects: bool = False  # the whole file is refused

    def template(self, lang: Lang) -> str:
        return self.template_th if lang == "th" else self.template_en


def fields_of(template: str) -> set[str]:
    """The names of the fields a template fills (``{label}``, ``{found!r}``: label, found)."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


_GIVEN = "the layouts given: {known}"
_GIVEN_TH = "ไฟล์แม่แบบที่ใช้ตรวจ: {known}"
_CHECK = _CHECK_TH = "{label}: {message}"  # the layout's message, as Words
_RESEND = "fill in the workbook the ministry sent, in Excel or LibreOffice, and send that file"
_RESEND_TH = ("กรุณากรอกแบบฟอร์มที่กระทรวงส่งให้ด้วย Excel หรือ LibreOffice แล้วส่งไฟล์นั้น"
              "กลับมา")
_FRESH_TH = "กรุณาคัดลอกคำตอบไปกรอกในแบบฟอร์มฉบับใหม่ที่ยังไม่ได้แก้ไข"
_LAYOUT_FIX_TH = ("ส่วนกลางควรใช้ไฟล์แม่แบบ (YAML) ฉบับที่ใช้สร้างแบบฟอร์มเหล่านี้ "
                  "แล้วตรวจหรือรวมผลใหม่")

_CODES = [
    # The file as a whole: nothing can be read from it.
    Code("unreadable", "error", "{detail}; check that the file is not open in another "
         "program and that you may read it",
         "{detail} กรุณาตรวจสอบว่าไฟล์ไม่ได้เปิดค้างอยู่ในโปรแกรมอื่น และคุณมีสิทธิ์อ่านไฟล์นี้",
         True),
    Code("too-large", "error", "{detail}", "{detail}", True),
    Code("damaged-file", "error", "{detail}", "{detail}", True),
    Code("not-a-workbook", "error", "{detail}; it was not opened further: " + _RESEND,
         "{detail} จึงไม่ได้เปิดอ่านต่อ " + _RESEND_TH, True),
    Code("not-excel", "error", "the file is not an Excel workbook (it looks like {kind}); "
         "send the .xlsx workbook the ministry sent, filled in",
         "ไฟล์นี้ไม่ใช่ไฟล์ Excel (ดูเหมือนเป็น{kind}) กรุณาส่งไฟล์ .xlsx ที่กระทรวงส่งให้ "
         "ซึ่งกรอกข้อมูลแล้ว", True),
    Code("strict-ooxml", "error", "{detail}", "{detail}", True),
    Code("zip-bomb", "error", "{detail}; it was not opened further: " + _RESEND,
         "{detail} จึงไม่ได้เปิดอ่านต่อ " + _RESEND_TH, True),
    Code("xml-doctype", "error", "{detail}; it was not opened further: " + _RESEND,
         "{detail} จึงไม่ได้เปิดอ่านต่อ " + _RESEND_TH, True),
    Code("old-excel-format", "error", "the file is an old Excel 97-2003 workbook (.xls); open "
         "it in Excel and save it as 'Excel Workbook (.xlsx)'",
         "ไฟล์นี้เป็นไฟล์ Excel รุ่นเก่า 97-2003 (.xls) กรุณาเปิดด้วย Excel แล้วบันทึกเป็น "
         "'Excel Workbook (.xlsx)'", True),
    Code("password-protected", "error", "the file is encrypted with a password to open; save "
         "it again without a password (File > Info > Protect Workbook) and resend it",
         "ไฟล์นี้ตั้งรหัสผ่านสำหรับเปิดไฟล์ไว้ กรุณาบันทึกใหม่โดยไม่ตั้งรหัสผ่าน (เมนู ไฟล์ > "
         "ข้อมูล > ป้องกันเวิร์กบุ๊ก) แล้วส่งมาใหม่", True),
    Code("ods-file", "error", "the file is an OpenDocument spreadsheet (.ods); in LibreOffice "
         "use File > Save As, choose 'Excel 2007-365 (.xlsx)', and send that file",
         "ไฟล์นี้เป็นไฟล์ OpenDocument (.ods) กรุณาเปิดใน LibreOffice แล้วเลือกเมนู ไฟล์ > "
         "บันทึกเป็น ('File > Save As') เลือกชนิดไฟล์ 'Excel 2007-365 (.xlsx)' แล้วส่งไฟล์นั้น",
         True),
    Code("macro-workbook", "error", "the file contains macros (.xlsm); macros are never run or "
         "accepted: save it as 'Excel Workbook (.xlsx)'",
         "ไฟล์นี้มีมาโคร (.xlsm) ซึ่งไม่รับและไม่เปิดใช้ กรุณาบันทึกเป็น "
         "'Excel Workbook (.xlsx)'", True),
    Code("inconsistent-package", "error", "{detail}: Excel would not read this file as it is "
         "stored, so what it shows cannot be vouched for; open the workbook in Excel or "
         "LibreOffice, save it again and send that copy, or " + _RESEND,
         "{detail} ไฟล์แบบนี้ Excel จะไม่อ่านตามที่บันทึกไว้ จึงรับรองไม่ได้ว่าสิ่งที่แสดงคือ"
         "ข้อมูลจริง กรุณาเปิดไฟล์ใน Excel หรือ LibreOffice บันทึกใหม่แล้วส่งไฟล์ที่บันทึกใหม่ "
         "หรือ" + _RESEND_TH.removeprefix("กรุณา"), True),
    Code("reader-failed", "error", "the file could not be read ({detail}); this is a fault of "
         "pmqa_xlsx, please report it with the file; meanwhile, open the file in Excel or "
         "LibreOffice, save it again and send that copy",
         "อ่านไฟล์ไม่ได้ ({detail}) ซึ่งเป็นข้อผิดพลาดของโปรแกรม pmqa_xlsx กรุณาแจ้งผู้ดูแล"
         "โปรแกรมพร้อมแนบไฟล์นี้ ระหว่างนี้ให้เปิดไฟล์ใน Excel หรือ LibreOffice บันทึกใหม่ "
         "แล้วส่งไฟล์ที่บันทึกใหม่", True),
    Code("not-a-return", "warning", "this is {what}; it is not read ({fix})",
         "ไฟล์นี้เป็น{what} จึงไม่ได้อ่าน ({fix})", True),
    Code("no-metadata", "error", "the workbook has no '{sheet}' metadata sheet, so it is not a "
         "form made by pmqa_xlsx (or the sheet was deleted); fill in the workbook the ministry "
         "sent",
         "แบบฟอร์มนี้ไม่มีแผ่นงานข้อมูลกำกับ '{sheet}' จึงไม่ใช่แบบฟอร์มที่สร้างด้วย pmqa_xlsx "
         "(หรือแผ่นงานนั้นถูกลบ) กรุณากรอกแบบฟอร์มที่กระทรวงส่งให้", True),
    Code("other-form", "error", "the workbook is form '{found}', which none of the layouts "
         "given describes (" + _GIVEN + "); either it is not this round's workbook (then "
         "fill in the workbook the ministry sent for this round and send that file), or the "
         "layouts given are not the ones the workbooks were made from (then the central office "
         "should check or merge with that form's layout file)",
         "ไฟล์นี้เป็นแบบฟอร์ม '{found}' ซึ่งไม่ตรงกับไฟล์แม่แบบใดที่ใช้ตรวจ (" + _GIVEN_TH
         + ") หากไม่ใช่แบบฟอร์มของรอบนี้ กรุณากรอกแบบฟอร์มที่กระทรวงส่งให้สำหรับรอบนี้แล้ว"
         "ส่งไฟล์นั้น หากใช่ ส่วนกลางควรตรวจหรือรวมผลด้วยไฟล์แม่แบบ (YAML) ของแบบฟอร์มนั้น",
         True),
    Code("unknown-version", "error", "the workbook is form '{form}' version '{found}', and no "
         "layout given is of that version (" + _GIVEN + "); either it is another round's "
         "workbook (then fill in the current workbook the ministry sent and send that file), "
         "or the layouts given are not the ones the workbooks were made from (then the central "
         "office should check or merge with that version's layout file)",
         "ไฟล์นี้เป็นแบบฟอร์ม '{form}' รุ่น '{found}' ซึ่งไม่มีไฟล์แม่แบบที่ใช้ตรวจเป็นรุ่นนี้ ("
         + _GIVEN_TH + ") หากเป็นแบบฟอร์มของรอบอื่น กรุณากรอกแบบฟอร์มฉบับปัจจุบันที่กระทรวง"
         "ส่งให้แล้วส่งไฟล์นั้น หากใช่ ส่วนกลางควรตรวจหรือรวมผลด้วยไฟล์แม่แบบ (YAML) ของรุ่นนั้น",
         True),
    Code("layout-changed", "error", "{what}: the workbook was made from another edit of form "
         "{form} version {version} than the layout given for it ({source}; layout "
         "fingerprints {found} in the workbook, {expected} in the layout), and the two edits "
         "differ here, so nothing was read; this is most likely not the agency's doing: the "
         "central office should give the layout file the workbooks were made from, and "
         "check or merge with it",
         "{what}: แบบฟอร์มนี้สร้างจากไฟล์แม่แบบของแบบฟอร์ม {form} รุ่น {version} คนละฉบับกับที่"
         "ใช้ตรวจ ({source}; รหัสตรวจสอบไฟล์แม่แบบ {found} ในแบบฟอร์ม {expected} ในไฟล์แม่แบบ) "
         "และสองฉบับต่างกันตรงนี้ จึงไม่ได้อ่านข้อมูลใด ๆ ส่วนใหญ่ไม่ใช่ความผิดของหน่วยงาน "
         + _LAYOUT_FIX_TH, True),
    Code("bad-metadata", "error", "the metadata sheet is damaged ({detail}); fill in a fresh "
         "copy of the workbook",
         "แผ่นงานข้อมูลกำกับของแบบฟอร์มเสียหาย ({detail}) กรุณากรอกข้อมูลในแบบฟอร์มฉบับใหม่",
         True),
    Code("structure-changed", "error", "expected {expected!r} here but found {found!r}{shift}: "
         "the sheet was unprotected and rows or columns were inserted, deleted or edited; copy "
         "the answers into a fresh copy of the workbook",
         "ตรงนี้ควรเป็น {expected!r} แต่พบ {found!r}{shift} แสดงว่ามีการยกเลิกการป้องกัน"
         "แผ่นงานแล้วแทรก ลบ หรือแก้ไขแถวหรือคอลัมน์ " + _FRESH_TH, True),
    Code("missing-sheet", "error", "the sheet '{sheet}' is missing or renamed; fill in a fresh "
         "copy of the workbook",
         "ไม่พบแผ่นงาน '{sheet}' (ถูกลบหรือเปลี่ยนชื่อ) กรุณากรอกข้อมูลในแบบฟอร์มฉบับใหม่",
         True),
    Code("no-agency-code", "error", "the agency code is empty, so the return cannot be matched "
         "to an agency; type the agency's code in {sheet}!{cell}",
         "ไม่ได้กรอกรหัสหน่วยงาน จึงไม่รู้ว่าแบบฟอร์มนี้เป็นของหน่วยงานใด กรุณาพิมพ์รหัส"
         "หน่วยงานที่ช่อง {sheet}!{cell}", True),
    Code("agency-code-mismatch", "error", "the agency code {found!r} differs from the code "
         "{expected!r} this workbook was made for; use the workbook sent to your agency",
         "รหัสหน่วยงาน {found!r} ไม่ตรงกับรหัส {expected!r} ที่แบบฟอร์มนี้ออกให้ กรุณาใช้"
         "แบบฟอร์มที่ส่งให้หน่วยงานของคุณ", True),
    # The folders: an entry the walk of a folder cannot follow is listed, never opened.
    Code("broken-link", "error", "this is a link to {target}, which {why}; nothing was read "
         "through it: delete the link, or put the return itself here",
         "รายการนี้เป็นลิงก์ (ทางลัด) ไปยัง {target} ซึ่ง{why} จึงไม่ได้อ่านข้อมูลผ่านลิงก์นี้ "
         "กรุณาลบลิงก์ หรือวางไฟล์แบบฟอร์มตัวจริงไว้ที่นี่", True),
    Code("folder-loop", "warning", "this link leads back to {target}, a folder that holds it, "
         "so it was not followed (the files there are read once, from that folder); delete "
         "the link",
         "ลิงก์นี้ชี้กลับไปที่ {target} ซึ่งเป็นโฟลเดอร์ที่มีลิงก์นี้อยู่ จึงไม่ได้ตามลิงก์ไป "
         "(ไฟล์ในโฟลเดอร์นั้นอ่านครั้งเดียวจากโฟลเดอร์นั้นเอง) กรุณาลบลิงก์นี้", True),
    Code("unreadable-folder", "error", "this folder could not be read (it {why}), so no return "
         "in it was read; check that you may open it, or copy the returns into a folder you "
         "can read",
         "อ่านโฟลเดอร์นี้ไม่ได้ (โฟลเดอร์นี้{why}) จึงไม่ได้อ่านแบบฟอร์มในโฟลเดอร์นี้ กรุณา"
         "ตรวจสอบว่ามีสิทธิ์เปิดโฟลเดอร์ หรือคัดลอกแบบฟอร์มไปไว้ในโฟลเดอร์ที่อ่านได้", True),
    Code("too-deep", "error", "this folder is {depth} folders below {root}, deeper than the "
         "{limit} a check or a merge goes, so nothing in it was read; move the returns it "
         "holds nearer the top",
         "โฟลเดอร์นี้อยู่ลึกลงไป {depth} ชั้นจาก {root} เกินกว่า {limit} ชั้นที่การตรวจหรือการ"
         "รวมผลเข้าไปอ่าน จึงไม่ได้อ่านไฟล์ในโฟลเดอร์นี้ กรุณาย้ายแบบฟอร์มไปไว้ในโฟลเดอร์ที่"
         "ตื้นกว่านี้", True),
    Code("bad-file-name", "warning", "the name of this file (or of a folder above it) is not "
         "valid UTF-8 text, so its odd bytes are shown as \\xNN; the file was read, but "
         "rename it (letters, digits, - _ .) so that everyone can tell which file it is",
         "ชื่อไฟล์นี้ (หรือชื่อโฟลเดอร์ที่อยู่เหนือไฟล์) มีอักขระที่อ่านเป็นข้อความ UTF-8 ไม่ได้ "
         "จึงแสดงอักขระนั้นเป็น \\xNN ไฟล์นี้อ่านแล้ว แต่กรุณาเปลี่ยนชื่อไฟล์ (ใช้ตัวอักษร "
         "ตัวเลข - _ .) เพื่อให้ทุกคนรู้ว่าเป็นไฟล์ใด"),
    # One cell: the return is read, but must be fixed before it counts.
    Code("not-a-number", "error", "{label}: {found!r} is not a number; type digits only, "
         "such as 85 or 1,250.5",
         "{label}: {found!r} ไม่ใช่ตัวเลข กรุณาพิมพ์เฉพาะตัวเลข เช่น 85 หรือ 1,250.5"),
    Code("number-as-text", "error", "{label}: {found!r} is text, not a number, so the form's "
         "formulas do not count it (percent success and score stay blank); type it again as "
         "the number {number}, in Arabic digits",
         "{label}: {found!r} เป็นข้อความ ไม่ใช่ตัวเลข สูตรในแบบฟอร์มจึงไม่นับค่านี้ (ร้อยละความ"
         "สำเร็จและคะแนนจะว่าง) กรุณาพิมพ์ใหม่เป็นตัวเลขอารบิก {number}"),
    Code("number-out-of-range", "error", "{label}: {found} is not allowed; {rule}",
         "{label}: ใส่ {found} ไม่ได้ {rule}"),
    Code("bad-status", "error", "{label}: {found!r} is not one of the statuses; choose one of: "
         "{choices}",
         "{label}: {found!r} ไม่ใช่สถานะที่กำหนด กรุณาเลือกจากรายการ: {choices}"),
    Code("bad-choice", "error", "{label}: {found!r} is not one of the choices; choose one of: "
         "{choices}",
         "{label}: {found!r} ไม่ใช่ตัวเลือกที่กำหนด กรุณาเลือกจากรายการ: {choices}"),
    Code("formula-in-input", "error", "{label}: the cell holds a formula ({formula}); type the "
         "value itself",
         "{label}: ช่องนี้มีสูตร ({formula}) กรุณาพิมพ์ค่าลงไปโดยตรง"),
    Code("error-value", "error", "{label}: the cell shows the error {found}; type the value "
         "itself",
         "{label}: ช่องนี้แสดงค่าผิดพลาด {found} กรุณาพิมพ์ค่าลงไปโดยตรง"),
    Code("typed-as-percent", "error", "{label}: the cell is formatted as a percentage, so the "
         "spreadsheet stored {found} for what was typed; type the number itself ({meant} for "
         "{meant}%) in a fresh copy of the form",
         "{label}: ช่องนี้ถูกจัดรูปแบบเป็นเปอร์เซ็นต์ โปรแกรมจึงเก็บค่า {found} แทนสิ่งที่"
         "พิมพ์ กรุณาพิมพ์ตัวเลขอย่างเดียว ({meant} แทน {meant}%) ในแบบฟอร์มฉบับใหม่"),
    Code("typed-as-date", "error", "{label}: the cell is formatted as a date or time, so the "
         "spreadsheet stored {found} for what was typed; type the number itself",
         "{label}: ช่องนี้ถูกจัดรูปแบบเป็นวันที่หรือเวลา โปรแกรมจึงเก็บค่า {found} แทนสิ่งที่"
         "พิมพ์ กรุณาพิมพ์ตัวเลขอย่างเดียว"),
    Code("format-hides-value", "error", "{label}: the cell holds {found} but its format shows "
         "{shown}, so what is counted is not what the form shows; clear the cell and type the "
         "value again in a fresh copy of the form",
         "{label}: ช่องนี้เก็บค่า {found} แต่รูปแบบของช่องแสดงค่านี้{shown} ค่าที่นับจึงไม่ตรง"
         "กับที่แบบฟอร์มแสดง กรุณาล้างช่องแล้วพิมพ์ค่าใหม่ในแบบฟอร์มฉบับใหม่"),
    Code("unknown-style", "error", "{label}: the cell uses a style (number {style}) that the "
         "workbook does not define, so how a spreadsheet shows it is unknown; clear the cell "
         "and type the value again in a fresh copy of the form",
         "{label}: ช่องนี้ใช้รูปแบบเซลล์ (หมายเลข {style}) ที่ไฟล์ไม่ได้กำหนดไว้ จึงไม่รู้ว่า"
         "โปรแกรมตารางคำนวณจะแสดงค่าอย่างไร กรุณาล้างช่องแล้วพิมพ์ค่าใหม่ในแบบฟอร์มฉบับใหม่"),
    Code("rich-value", "error", "{label}: the cell shows a picture or linked data, not a "
         "typed value; delete it and type the value itself",
         "{label}: ช่องนี้แสดงรูปภาพหรือข้อมูลที่ลิงก์มา ไม่ใช่ค่าที่พิมพ์ กรุณาลบออกแล้ว"
         "พิมพ์ค่าลงไปโดยตรง"),
    Code("conditional-number-format", "error", "a conditional format on this sheet changes how "
         "numbers are shown, so a cell may show another value than the one counted; copy the "
         "answers into a fresh copy of the workbook",
         "แผ่นงานนี้มีการจัดรูปแบบตามเงื่อนไขที่เปลี่ยนวิธีแสดงตัวเลข ช่องจึงอาจแสดงค่าต่างจาก"
         "ค่าที่นับ " + _FRESH_TH),
    Code("misplaced-value", "error", "a value where the form has none: {found!r}; the sheet "
         "was unprotected and edited, so values may have moved: copy the answers into a fresh "
         "copy of the workbook",
         "พบค่าในตำแหน่งที่แบบฟอร์มไม่มีช่องกรอก: {found!r} แสดงว่ามีการยกเลิกการป้องกัน"
         "แผ่นงานแล้วแก้ไข ค่าอาจเลื่อนตำแหน่ง " + _FRESH_TH),
    Code("far-cell", "error", "a cell far outside the form (row {row:,}, column {col:,}) holds "
         "something; no one types there, so the file was edited outside the form or made by "
         "another tool, and it was not read beyond the form: copy the answers into a fresh "
         "copy of the workbook",
         "มีข้อมูลในช่องที่อยู่นอกแบบฟอร์มไกลมาก (แถว {row:,} คอลัมน์ {col:,}) ซึ่งปกติไม่มี"
         "ใครพิมพ์ถึง แสดงว่าไฟล์ถูกแก้ไขนอกแบบฟอร์มหรือสร้างด้วยโปรแกรมอื่น และไม่ได้อ่าน"
         "ส่วนที่อยู่นอกแบบฟอร์ม " + _FRESH_TH),
    Code("text-too-long", "error", "{label}: the text is {length:,} characters; shorten it to "
         "at most {limit:,}",
         "{label}: ข้อความยาว {length:,} ตัวอักษร กรุณาตัดให้เหลือไม่เกิน {limit:,} ตัวอักษร"),
    # The form's own checks (the layout's checks:, pmqa_xlsx.checks): each message is the
    # layout's own, in Thai and in English (the workbook shows the Thai live). The severity
    # here is the default; the layout declares each check's own.
    Code("status-required", "error", _CHECK, _CHECK_TH),
    Code("details-required", "error", _CHECK, _CHECK_TH),
    Code("details-unexpected", "warning", _CHECK, _CHECK_TH),
    Code("indicator-needs-name", "error", _CHECK, _CHECK_TH),
    Code("result-without-target", "error", _CHECK, _CHECK_TH),
    Code("target-without-result", "warning", _CHECK, _CHECK_TH),
    # Warnings: the return counts, but someone should look.
    Code("stray-value", "warning", "a value outside the form's input cells was ignored: "
         "{found!r}; type answers only in the yellow cells",
         "พบค่านอกช่องกรอกของแบบฟอร์ม ซึ่งไม่ได้นำมาใช้: {found!r} กรุณาพิมพ์คำตอบเฉพาะใน"
         "ช่องสีเหลือง"),
    Code("many-stray-values", "warning", "{count:,} more values outside the form's input cells "
         "were ignored (the first {listed} are listed); type answers only in the yellow cells",
         "พบค่านอกช่องกรอกอีก {count:,} ค่า ซึ่งไม่ได้นำมาใช้ (แสดงเฉพาะ {listed} ค่าแรก) "
         "กรุณาพิมพ์คำตอบเฉพาะในช่องสีเหลือง"),
    Code("shown-as-formatted", "warning", "{label}: the cell holds the number {found} formatted "
         "as a {what} (a pasted cell), so it is read as the spreadsheet shows it, {shown}; "
         "check that this is the answer, and type it as text if not",
         "{label}: ช่องนี้เก็บตัวเลข {found} ที่จัดรูปแบบเป็น{what} (เซลล์ที่วางมาจากที่อื่น) "
         "จึงอ่านตามที่โปรแกรมแสดง คือ {shown} กรุณาตรวจสอบว่าเป็นคำตอบที่ถูกต้อง หากไม่ใช่ "
         "ให้พิมพ์เป็นข้อความ"),
    Code("lost-character", "warning", "{label}: the text holds '\ufffd', a character lost in "
         "copying or saving (in the file it may be an unpaired surrogate, which no text can "
         "hold); check the text and type the lost character again",
         "{label}: ข้อความมีอักขระ '\ufffd' ซึ่งเป็นอักขระที่เสียไประหว่างคัดลอกหรือบันทึก "
         "กรุณาตรวจข้อความแล้วพิมพ์อักขระที่เสียไปใหม่"),
    Code("hidden-input", "warning", "{label}: the cell is in a hidden row or column, so its "
         "value {found!r} may not have been seen; it is read: unhide the row or column and "
         "check it",
         "{label}: ช่องนี้อยู่ในแถวหรือคอลัมน์ที่ซ่อนไว้ ค่า {found!r} จึงอาจไม่มีใครเห็น "
         "ค่านี้อ่านแล้ว กรุณายกเลิกการซ่อนแถวหรือคอลัมน์แล้วตรวจสอบ"),
    Code("hidden-sheet", "warning", "the sheet is hidden, so its {count:,} filled answers may "
         "not have been seen; they are read: unhide the sheet (right-click a sheet tab, "
         "Unhide) and check them",
         "แผ่นงานนี้ถูกซ่อนไว้ คำตอบที่กรอกไว้ {count:,} ช่องจึงอาจไม่มีใครเห็น คำตอบเหล่านี้"
         "อ่านแล้ว กรุณายกเลิกการซ่อนแผ่นงาน (คลิกขวาที่แท็บแผ่นงาน เลือก ยกเลิกการซ่อน) "
         "แล้วตรวจสอบ"),
    Code("covered-input", "warning", "{label}: the cell is inside merged cells, which show "
         "only the first cell's value, so its value {found!r} is not shown; it is read: "
         "unmerge the cells and check it",
         "{label}: ช่องนี้อยู่ในเซลล์ที่ผสานไว้ ซึ่งแสดงเฉพาะค่าของเซลล์แรก ค่า {found!r} "
         "จึงไม่แสดง ค่านี้อ่านแล้ว กรุณายกเลิกการผสานเซลล์แล้วตรวจสอบ"),
    Code("covered-blank-input", "warning", "{label}: the cell is inside merged cells, which "
         "show only the first cell's value, so nothing can be typed or seen here; unmerge the "
         "cells and type the answer here if it has one",
         "{label}: ช่องนี้อยู่ในเซลล์ที่ผสานไว้ ซึ่งแสดงเฉพาะค่าของเซลล์แรก จึงพิมพ์หรือมองเห็นค่า"
         "ในช่องนี้ไม่ได้ กรุณายกเลิกการผสานเซลล์ แล้วกรอกคำตอบในช่องนี้ถ้ามี"),
    Code("drawing-over-form", "warning", "the sheet has pictures or shapes drawn over it; they "
         "are not read and may cover answers: delete them, or check that none hides a cell",
         "แผ่นงานนี้มีรูปภาพหรือรูปร่างวางทับอยู่ ซึ่งไม่ได้อ่านและอาจบังคำตอบ กรุณาลบออก "
         "หรือตรวจสอบว่าไม่มีรูปใดบังช่องกรอก"),
    Code("unreadable-properties", "warning", "the workbook's document properties (docProps) are "
         "damaged or oversized, so the time it was last saved is unknown: if the agency sent "
         "another return, that one counts; save the file again from Excel to mend it",
         "คุณสมบัติเอกสารของไฟล์ (docProps) เสียหายหรือใหญ่เกินไป จึงไม่รู้เวลาที่บันทึกล่าสุด "
         "หากหน่วยงานส่งแบบฟอร์มอีกฉบับ จะนับฉบับนั้น กรุณาเปิดไฟล์ใน Excel แล้วบันทึกใหม่"),
    Code("cached-mismatch", "warning", "{label}: the workbook showed {cached} but the rule gives "
         "{computed}; the recomputed value is used",
         "{label}: แบบฟอร์มแสดง {cached} แต่ตามเกณฑ์ได้ {computed} จึงใช้ค่าที่คำนวณใหม่"),
    Code("formula-removed", "warning", "{label}: the formula was replaced by a value ({found!r}); "
         "the recomputed value is used",
         "{label}: สูตรถูกแทนที่ด้วยค่า ({found!r}) จึงใช้ค่าที่คำนวณใหม่"),
    Code("layout-edited", "warning", "the workbook was made from another edit of form {form} "
         "version {version} than the layout given for it ({source}; layout fingerprints "
         "{found} in the workbook, {expected} in the layout); it was read with that layout, "
         "whose labels it has, but a choice, a rule or a year the edits changed may be misread: "
         "the central office should give the layout file the workbooks were made from, and "
         "check or merge with it",
         "แบบฟอร์มนี้สร้างจากไฟล์แม่แบบของแบบฟอร์ม {form} รุ่น {version} คนละฉบับกับที่ใช้ตรวจ "
         "({source}; รหัสตรวจสอบไฟล์แม่แบบ {found} ในแบบฟอร์ม {expected} ในไฟล์แม่แบบ) "
         "ได้อ่านด้วยไฟล์แม่แบบที่ใช้ตรวจ ซึ่งชื่อช่องตรงกัน แต่ตัวเลือก เกณฑ์ หรือปีที่สองฉบับ"
         "ต่างกันอาจอ่านผิด " + _LAYOUT_FIX_TH),
    # {carried}: CARRIED_DO_NOT_COUNT for a workbook generate --prefill carried values into
    # (its metadata's record says so), empty Words for any other
    Code("empty-return", "warning", "nothing is filled in{carried}; fill in the form and send "
         "it again",
         "ยังไม่ได้กรอกข้อมูลใด ๆ{carried} กรุณากรอกแบบฟอร์มแล้วส่งมาใหม่"),
    # check, on one return (the merge lists these rows among the implausible ones)
    Code("target-like-fraction", "warning", "{label}: the target is {target} while a result "
         "is {result}: perhaps a percentage typed as a fraction; if the target is {meant}%, "
         "type {meant}",
         "{label}: ค่าเป้าหมายคือ {target} แต่ผลการดำเนินงานสูงถึง {result} อาจพิมพ์เป้าหมายที่เป็น"
         "ร้อยละเป็นทศนิยม ถ้าเป้าหมายคือร้อยละ {meant} กรุณาพิมพ์ {meant}"),
    Code("percent-extreme", "warning", "the percent success of {item} is {percent}% (at least "
         "{bound}% is beyond belief); check its target, its results and its unit",
         "ร้อยละความสำเร็จของตัวชี้วัด {item} คือ {percent}% (ตั้งแต่ {bound}% ขึ้นไป ไม่น่าเป็นไปได้) "
         "กรุณาตรวจค่าเป้าหมาย ผลการดำเนินงาน และหน่วยนับ"),
    # The merge.
    Code("duplicate", "warning", "agency {agency} sent more than one return; {chosen} is used "
         "(the newest) and this one is not counted: {difference}",
         "หน่วยงาน {agency} ส่งแบบฟอร์มมากกว่าหนึ่งฉบับ ใช้ฉบับ {chosen} (ฉบับล่าสุด) และไม่นับ"
         "ฉบับนี้: {difference}"),
    Code("duplicate-differs", "warning", "agency {agency} also sent {other}, which differs from "
         "this return in {cells} and is not counted; this one is counted as the newest: check "
         "that it is the right one (the other may be a draft, or this one a return filled in "
         "for the wrong agency, or forged)",
         "หน่วยงาน {agency} ส่ง {other} มาด้วย ซึ่งต่างจากฉบับนี้ที่ {cells} และไม่ได้นับ "
         "ฉบับนี้นับเป็นฉบับล่าสุด กรุณาตรวจสอบว่าเป็นฉบับที่ถูกต้อง (อีกฉบับอาจเป็นฉบับร่าง "
         "หรือฉบับนี้อาจกรอกให้ผิดหน่วยงาน หรือถูกปลอมขึ้น)"),
    Code("unknown-agency", "error", "agency code {agency!r} is not on the roster; check the code "
         "in the workbook, or add the agency to the roster and merge again",
         "รหัสหน่วยงาน {agency!r} ไม่อยู่ในบัญชีรายชื่อหน่วยงาน กรุณาตรวจรหัสในแบบฟอร์ม หรือ"
         "เพิ่มหน่วยงานในบัญชีรายชื่อแล้วรวมผลใหม่"),
    Code("newer-return-rejected", "warning", "agency {agency} sent a newer file, {newer}, "
         "which was rejected; this older return is used until the newer one is fixed",
         "หน่วยงาน {agency} ส่งไฟล์ที่ใหม่กว่า คือ {newer} แต่ไฟล์นั้นต้องแก้ไข จึงใช้ฉบับที่"
         "เก่ากว่านี้ไปก่อนจนกว่าฉบับใหม่จะแก้ไขเสร็จ"),
    Code("untrusted-time", "warning", "agency {agency} sent {count} files, and this one's "
         "{what}, {time}, is {why}: it is not used to tell which return is the newest (it counts "
         "as the oldest); check the clock of the computer that saved it, and which return is "
         "the right one",
         "หน่วยงาน {agency} ส่งมา {count} ไฟล์ และ{what}ของไฟล์นี้ คือ {time} {why} จึงไม่ใช้"
         "เวลานี้ตัดสินว่าฉบับใดใหม่ที่สุด (นับเป็นฉบับเก่าที่สุด) กรุณาตรวจนาฬิกาของเครื่องที่"
         "บันทึกไฟล์ และตรวจว่าฉบับใดถูกต้อง"),
    Code("other-round", "error", "this return is for {found}, but this merge counts "
         "{expected}; it is not counted here: merge it with its own round (--round {round})",
         "แบบฟอร์มนี้เป็นของ{found} แต่การรวมผลครั้งนี้นับ{expected} จึงไม่นับในครั้งนี้ "
         "กรุณารวมผลแยกตามรอบของแบบฟอร์มนั้น (--round {round})"),
    Code("missing-return", "warning", "no counted return from agency {agency} ({name}){why}",
         "ยังไม่มีแบบฟอร์มที่นับได้จากหน่วยงาน {agency} ({name}){why}"),
    # Against the previous round (merge --previous).
    Code("result-differs-previous", "warning", "the result for {year} of row {item} differs "
         "from what this agency reported for that year in the previous round ({previous} in "
         "{previous_round}; now {current}): check which figure is right, and correct the "
         "return or tell the central office why it changed",
         "ผล ปี {year} ของแถว {item} ต่างจากที่หน่วยงานรายงานไว้ในรอบที่แล้ว ({previous} ใน"
         "{previous_round} รอบนี้ {current}) กรุณาตรวจสอบว่าตัวเลขใดถูกต้อง แล้วแก้ไขแบบฟอร์ม "
         "หรือแจ้งส่วนกลางว่าเหตุใดจึงเปลี่ยน"),
    # Against the manifest of the workbooks issued (merge --manifest, check --manifest).
    Code("token-mismatch", "error", "the workbook does not carry the token issued to agency "
         "{agency} ({manifest}, line {line}), so it was not made from the workbook sent to that "
         "agency (it may be another agency's workbook, or its metadata was edited); it is not "
         "counted: ask the agency to fill in the workbook the ministry sent it and send that "
         "file",
         "แบบฟอร์มนี้ไม่มีรหัสกำกับที่ออกให้หน่วยงาน {agency} ({manifest} บรรทัดที่ {line}) "
         "จึงไม่ได้สร้างจากแบบฟอร์มที่ส่งให้หน่วยงานนั้น (อาจเป็นแบบฟอร์มของหน่วยงานอื่น หรือ"
         "ข้อมูลกำกับถูกแก้ไข) จึงไม่นับ กรุณาขอให้หน่วยงานกรอกแบบฟอร์มที่กระทรวงส่งให้แล้ว"
         "ส่งไฟล์นั้น"),
    Code("token-missing", "error", "the workbook carries no token, so it is not the workbook "
         "issued to agency {agency} ({manifest}, line {line}): a blank form, or one made before "
         "tokens were issued; it is not counted: ask the agency to fill in the workbook the "
         "ministry sent it and send that file",
         "แบบฟอร์มนี้ไม่มีรหัสกำกับ จึงไม่ใช่แบบฟอร์มที่ออกให้หน่วยงาน {agency} ({manifest} "
         "บรรทัดที่ {line}) อาจเป็นแบบฟอร์มเปล่า หรือแบบฟอร์มที่สร้างก่อนมีรหัสกำกับ จึงไม่นับ "
         "กรุณาขอให้หน่วยงานกรอกแบบฟอร์มที่กระทรวงส่งให้แล้วส่งไฟล์นั้น"),
    Code("not-issued", "error", "agency {agency} is not in the manifest {manifest}: no "
         "workbook was issued to it in this round, or this is another round's manifest; it is "
         "not counted: check the agency code, or merge with the manifest that lists it",
         "หน่วยงาน {agency} ไม่อยู่ในรายการแบบฟอร์มที่ออกให้ {manifest} แสดงว่าไม่ได้ออก"
         "แบบฟอร์มให้หน่วยงานนี้ในรอบนี้ หรือเป็นรายการของรอบอื่น จึงไม่นับ กรุณาตรวจรหัส"
         "หน่วยงาน หรือรวมผลด้วยรายการแบบฟอร์มที่มีหน่วยงานนี้"),
]

CATALOGUE: dict[str, Code] = {c.slug: c for c in _CODES}

CELLS_LISTED = 3  # differing cells named in duplicate and duplicate-differs


def cells_text(count: int | None, where: list[str]) -> Words:
    """How many cells two returns differ in, and the first of them: "2 cells (หมวด 3!E5, ...)"."""
    if count is None:
        return Words("ช่องที่เปรียบเทียบกันไม่ได้ (แบบฟอร์มทั้งสองสร้างจากไฟล์แม่แบบคนละฉบับ)",
                     "cells that could not be compared (the returns are of other layouts)")
    shown = ", ".join(where[:CELLS_LISTED]) + (", …" if count > CELLS_LISTED else "")
    return Words(f"{count:,} ช่อง ({shown})",
                 f"{count:,} cell{'s' if count != 1 else ''} ({shown})")


def difference(chosen: str, count: int | None, where: list[str]) -> Words:
    """The end of a ``duplicate`` message: an identical copy, or how it differs."""
    if count == 0:
        return Words("ฉบับนี้เหมือนกันทุกช่อง", "it is an identical copy")
    cells = cells_text(count, where)
    return Words(f"ฉบับนี้ต่างจาก {chosen} ที่ {cells.th} กรุณาตรวจสอบว่าฉบับใดถูกต้อง",
                 f"it differs from {chosen} in {cells.en}; check which one is right")


#: The words of ``untrusted-time``: which time of the file, and why it is not trusted.
TIME_WHAT = {"modified": Words("เวลาที่บันทึกซึ่งเก็บไว้ในแบบฟอร์ม",
                               "time of saving stored in the workbook"),
             "mtime": Words("เวลาที่แก้ไขไฟล์", "modification time as a file"),
             "generated_at": Words("เวลาที่สร้างแบบฟอร์ม", "time of generation")}


def time_why(why: str, generated: str = "") -> Words:
    """Why a time of ``untrusted-time`` is not trusted: ``future``, or ``before`` the
    workbook was generated (at ``generated``)."""
    if why == "future":
        return Words("เป็นเวลาในอนาคต (หลังจากเริ่มรวมผลครั้งนี้)",
                     "in the future (after this merge started)")
    return Words(f"เป็นเวลาก่อนที่แบบฟอร์มจะถูกสร้าง ({generated})",
                 f"before the workbook was generated ({generated})")


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem, its message in Thai and in English."""

    file: str | None
    agency_code: str | None
    sheet: str | None
    cell: str | None
    severity: Severity
    code: str
    message_th: str
    message_en: str

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def text(self, lang: Lang = "th") -> str:
        """The message in ``lang``."""
        return self.message_th if lang == "th" else self.message_en


def message(code: str, lang: Lang, **fields: object) -> str:
    """The message of ``code`` in ``lang`` with its fields filled in (``Words`` fields in
    ``lang``)."""
    return CATALOGUE[code].template(lang).format(
        **{name: in_lang(value, lang) for name, value in fields.items()})


#: The ``{carried}`` of ``empty-return`` for a workbook with cells carried over.
CARRIED_DO_NOT_COUNT = Words(" (ค่าที่ยกมาจากรอบที่แล้วไม่นับ)",
                             " (values carried over from the previous round do not count)")
NOTHING_CARRIED = Words("", "")


def make(code: str, *, file: str | None, agency_code: str | None = None, sheet: str | None = None,
         cell: str | None = None, severity: Severity | None = None, **fields: object) -> Problem:
    """A located problem from the catalogue (``severity``: the layout's, for its checks)."""
    entry = CATALOGUE[code]
    return Problem(file=file, agency_code=agency_code, sheet=sheet, cell=cell,
                   severity=severity or entry.severity, code=code,
                   message_th=message(code, "th", sheet=sheet, cell=cell, **fields),
                   message_en=message(code, "en", sheet=sheet, cell=cell, **fields))


def rejects(problem: Problem) -> bool:
    return CATALOGUE[problem.code].rejects


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The problems frame: columns PROBLEM_COLUMNS, all strings (missing as <NA>)."""
    frame = pd.DataFrame([[getattr(p, c) for c in PROBLEM_COLUMNS] for p in problems],
                         columns=list(PROBLEM_COLUMNS))
    return frame.astype("string")
