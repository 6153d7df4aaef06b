"""Test fixture: small layouts of the shapes the format allows, written as YAML from a few
parameters (how many statuses, a checklist or not, and each indicator sheet's result years,
target year, columns and tables)."""

from __future__ import annotations

from dataclasses import dataclass

from pmqa_xlsx.layout import Layout, parse_layout

STATUS_LABELS = ("ยังไม่ได้ดำเนินการ", "อยู่ระหว่างวางแผน", "อยู่ระหว่างดำเนินการ",
                 "ดำเนินการแล้วบางส่วน", "ดำเนินการแล้วเสร็จ", "ทบทวนและปรับปรุงแล้ว")


@dataclass(frozen=True)
class Sheet:
    """One indicator sheet: its id (``7.1``), result years and target year (offsets from
    the fiscal year), whether it has the unit and direction columns, its tables' rows."""

    id: str
    result_years: tuple[int, ...] = (-2, -1, 0)
    target_year: int = 0
    unit: bool = True
    direction: bool = True
    tables: tuple[int, ...] = (2,)


def shape(form_id: str, *, statuses: int = 3, checklist: bool = True,
          sheets: tuple[Sheet, ...] = (Sheet("7.1"),), version: str = "2562.1",
          fiscal_year: int = 2562) -> Layout:
    """A layout of this shape, parsed from its YAML (which ``shape_yaml`` gives)."""
    return parse_layout(shape_yaml(form_id, statuses=statuses, checklist=checklist,
                                   sheets=sheets, version=version, fiscal_year=fiscal_year),
                        source=f"{form_id}.yaml")


def shape_yaml(form_id: str, *, statuses: int = 3, checklist: bool = True,
               sheets: tuple[Sheet, ...] = (Sheet("7.1"),), version: str = "2562.1",
               fiscal_year: int = 2562) -> str:
    lines = [
        "form:",
        f"  id: {form_id}",
        f'  version: "{version}"',
        "  title: แบบทดสอบรูปแบบของแบบฟอร์ม",
        f"  fiscal_year: {fiscal_year}",
        "statuses:",
        *(f"  - {{id: s{i}, label: {STATUS_LABELS[i]}}}" for i in range(statuses)),
        "instructions:",
        "  sheet: คำชี้แจง",
        "  title: คำชี้แจง",
        "  lines: [กรอกข้อมูลในช่องสีเหลือง]",
        "  legend: {input: ช่องสีเหลือง, locked: ช่องสีเทา, formula: ช่องสีฟ้า}",
        "  completeness: กรอกแล้ว",
        "  indicator_count: จำนวนตัวชี้วัด",
        "identity:",
        "  title: ข้อมูลหน่วยงาน",
        "  fields:",
        "    - {id: agency_name, label: ชื่อหน่วยงาน, roster: agency_name}",
        "    - {id: agency_code, label: รหัสหน่วยงาน, roster: agency_code}",
        "    - {id: respondent, label: ผู้กรอกข้อมูล}",
        "sheets:",
    ]
    if checklist:
        lines += [
            "  - kind: checklist",
            '    id: "4"',
            "    sheet: หมวด 4",
            "    title: หมวด 4 การวัด การวิเคราะห์",
            "    columns: {id: ข้อ, topic: หัวข้อ, status: สถานะ, details: รายละเอียด}",
            "    sections:",
            '      - id: "4.1"',
            "        title: การวัดผล",
            "        items:",
            '          - id: "4.1.1"',
            "            topic: มีตัววัดผล",
            "            blanks: [{id: measures, label: ได้แก่}]",
            '          - id: "4.1.2"',
            "            topic: มีฐานข้อมูล",
            "            rows:",
            '              - {id: "4.1.2.a", text: ฐานข้อมูลกลาง}',
            '              - {id: "4.1.2.b", text: เชื่อมโยงข้อมูล, blanks: [{id: partners, '
            "label: กับหน่วยงาน}]}",
        ]
    for sheet in sheets:
        lines += [
            "  - kind: indicators",
            f'    id: "{sheet.id}"',
            f"    sheet: หมวด {sheet.id}",
            f"    title: หมวด {sheet.id} ผลลัพธ์",
            "    columns:",
            "      number: ลำดับ",
            "      indicator: ตัวชี้วัด",
            *(["      unit: หน่วยนับ"] if sheet.unit else []),
            *(["      direction: ทิศทาง"] if sheet.direction else []),
            "      target: ค่าเป้าหมาย",
            '      target_year: "ปี {year}"',
            "      results: ผลการดำเนินงาน",
            "      percent_success: ร้อยละความสำเร็จ",
            "      score: คะแนน",
            f"    target_year: {sheet.target_year}",
            f"    result_years: [{', '.join(map(str, sheet.result_years))}]",
            "    rows: 1",
            "    tables:",
            *(f'      - {{id: "{sheet.id}.{t}", title: ตาราง {t}, description: ตัวชี้วัด {t}, '
              f"rows: {rows}}}" for t, rows in enumerate(sheet.tables, start=1)),
            "    validation:",
            "      target: {greater_than: 0}",
            "      results: {at_least: -1.0e+12, at_most: 1.0e+12}",
        ]
    lines += [
        "rules:",
        "  directions: {higher: ยิ่งมากยิ่งดี, lower: ยิ่งน้อยยิ่งดี}",
        "  percent_success: {decimals: 2}",
        "  score: {max: 5, full_at_percent: 100, decimals: 2}",
    ]
    return "\n".join(lines) + "\n"
