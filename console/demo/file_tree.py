"""A small, realistic file tree for the demo, generated deterministically from a seed.

`generate_demo_tree(dest)` makes two roots under dest, sized together to about `size` bytes:
- `mail/`: a maildir mail store, `USER/Maildir/{cur,new,tmp}` plus Maildir++ folders (`.Sent`,
  `.Archive.2023`), holding RFC 822 messages with plausible headers and text, some multipart with
  base64 attachments (PDF and JPEG look-alikes);
- `share/`: an office share with nested folders: text documents, meeting notes, CSV exports and HTML
  reports that compress well, and photos, zip archives, spreadsheets and PDFs whose bodies are random
  bytes behind a real-looking header (they do not compress), plus a few names with spaces, non-ASCII
  letters and one path longer than 100 bytes.
File and directory mtimes lie between 2022 and mid-2025. The same seed and size give the same tree,
byte for byte, names and mtimes included.
"""

from __future__ import annotations

import base64
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

DEFAULT_SIZE = 256 << 20
MAIL_SHARE = 0.4  # part of the bytes that goes to the mail store
DOMAIN = "example.com"
_START = datetime(2022, 1, 3, 8, 0, tzinfo=UTC)
_SPAN_SECONDS = int((datetime(2025, 6, 30, 18, 0, tzinfo=UTC) - _START).total_seconds())
_LOCAL = timezone(timedelta(hours=1))


def _words(text: str) -> list[str]:
    return text.split()


_WORDS = _words("""
the of and to a in for is on that by this with you it not or be are from at as your all have new more an
was we will can about if page my has our one other do no information time they site he up may what which
their news out use any there see only so his when contact here business who also now help get pm view
online first am been would how were me services some these click its like service than find price date
back top people had list name just over state year day into email two health world next used go work
last most products music buy data make them should product system post her city add policy number such
please available copyright support message after best software then jan good video well where info
rights public books high school through each links she review years order very privacy book items
company read group need many user said does set under general research university january mail full
map reviews program life know games way days management part could great united hotel real item
international center ebay must store travel comments made development report off member details line
terms before hotels did send right type because local those using results office education national
car design take posted internet address community within states area want phone shipping reserved
subject between forum family long based code show even black check special prices website index being
women much sign file link open today technology south case project same pages version section own found
sports house related security both county american photo game members power while care network down
computer systems three total place end following download him without per access think north resources
current posts big media law control water history pictures size art personal since including guide shop
directory board location change white text small rating rate government children during usa return
students shopping account times sites level digital profile previous form events love old john main call
hours image department title description non insurance another why shall property class still money
quality every listing content country private little visit save tools low reply customer december
compare movies include college value article york man card jobs provide food source author different
press learn sale around print course job canada process teen room stock training too credit point join
science men categories advanced west sales look english left team estate box conditions select windows
photos thread week category note live large gallery table register however june october november market
library really action start series model features air industry plan human provided yes required second
hot accessories cost movie forums march september better say questions july yahoo going medical test
friend come dec server study application cart staff articles san feedback again play looking issues
april never users complete street topic comment financial things working against standard tax person
below mobile less got blog party payment equipment login student let programs offers legal above recent
park stores side act problem red give memory performance social august quote language story sell options
experience rates create key body young america important field few east paper single age activities
club example girls additional password latest something road gift question changes night hard texas pay
four poker status browse issue range building seller court february always result audio light write war
invoice budget quarter meeting minutes agenda approved draft final revision contract supplier delivery
""")

_FIRST = _words("""alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil
trent victor walter yolanda zoe marta jonas lena tobias""")
_LAST = _words("""Meyer Schmidt Novak Dubois Rossi Jensen Kowalski Smith Garcia Muller Bauer Fischer Weber Wagner
Becker Hoffmann Schulz Koch Richter Klein Wolf Neumann Schwarz Zimmermann""")
_COMPANIES = """Nordwind Logistik|Acme Tools Ltd|Bergmann & Sohn|Blue Harbor Foods|Kestrel Engineering|
Lindqvist Design|Oakridge Supplies|Polaris Print|Riverside Dental|Sunfield Energy|Tandem Legal|
Vantage Office Systems|Weissgold Catering|Zenith Freight""".replace("\n", "").split("|")
_PROJECTS = ["Warehouse Extension", "Website Relaunch 2024", "ERP Migration", "Office Move Nord", "Solar Roof"]
_SUBJECTS = [
    "Re: invoice {n}",
    "Quarterly figures {q}",
    "Meeting on {d}",
    "Fwd: delivery schedule",
    "Offer {n} - updated prices",
    "Holiday plan {y}",
    "Re: Re: contract draft v{v}",
    "Minutes board meeting {d}",
    "Reminder: timesheets",
    "Photos from site visit",
    "Server maintenance window {d}",
    "Question about order {n}",
]


@dataclass(frozen=True, slots=True)
class DemoTree:
    root: Path
    mail: Path
    share: Path
    files: int
    bytes: int
    seed: int


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.files = 0
        self.bytes = 0

    # ---- values
    def when(self) -> datetime:
        return _START + timedelta(seconds=self.rng.randrange(_SPAN_SECONDS))

    def person(self) -> tuple[str, str]:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        return f"{first.title()} {last}", f"{first}.{last.lower()}"

    def sentence(self) -> str:
        words = self.rng.choices(_WORDS, k=self.rng.randint(6, 18))
        return " ".join(words).capitalize() + self.rng.choice(".....?!")

    def text(self, nbytes: int) -> str:
        paragraphs: list[str] = []
        size = 0
        while size < nbytes:
            paragraph = " ".join(self.sentence() for _ in range(self.rng.randint(2, 7)))
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        return "\n\n".join(paragraphs) + "\n"

    def noise(self, nbytes: int) -> bytes:
        return self.rng.randbytes(nbytes)

    def size(self, low: int, high: int) -> int:
        """A size between low and high, skewed toward low (most files are small)."""
        return int(low + (high - low) * self.rng.random() ** 3)

    # ---- output
    def write(self, path: Path, data: bytes, when: datetime) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        stem, suffix, copy = path.stem, path.suffix, 1
        while path.exists():  # as a user saving "name (2).ext"
            copy += 1
            path = path.with_name(f"{stem} ({copy}){suffix}")
        path.write_bytes(data)
        stamp = int(when.timestamp() * 1_000_000_000) + self.rng.randrange(1_000_000_000)
        os.utime(path, ns=(stamp, stamp))
        self.files += 1
        self.bytes += len(data)


# ------------------------------------------------------------------------------------------- mail


def _attachment(gen: _Gen, cap: int) -> tuple[str, str, bytes]:
    size = gen.size(20_000, max(20_001, min(cap, 400_000)))
    if gen.rng.random() < 0.5:
        name = f"scan_{gen.rng.randint(1000, 9999)}.pdf"
        return name, "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + gen.noise(size)
    name = f"IMG_{gen.rng.randint(1000, 9999)}.jpg"
    return name, "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + gen.noise(size)


def _message(gen: _Gen, user: str, when: datetime, cap: int, sent: bool) -> bytes:
    rng = gen.rng
    other_name, other_addr = gen.person()
    me = f"{user.title()} <{user}@{DOMAIN}>"
    them = f"{other_name} <{other_addr}@{rng.choice(_COMPANIES).split()[0].lower()}.example.net>"
    sender, recipient = (me, them) if sent else (them, me)
    subject = rng.choice(_SUBJECTS).format(
        n=rng.randint(10000, 99999),
        q=f"Q{rng.randint(1, 4)}",
        d=when.strftime("%d.%m."),
        y=when.year,
        v=rng.randint(2, 9),
    )
    date = format_datetime(when.astimezone(_LOCAL))
    msgid = f"<{rng.getrandbits(64):016x}.{rng.getrandbits(32):08x}@{DOMAIN}>"
    headers = [
        f"Return-Path: <{sender.split('<')[1]}",
        f"Delivered-To: {user}@{DOMAIN}",
        f"Received: from mx{rng.randint(1, 4)}.example.net (mx.example.net [192.0.2.{rng.randint(2, 250)}])"
        f"\n\tby mail.{DOMAIN} (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\n\tfor <{user}@{DOMAIN}>; {date}",
        f"Date: {date}",
        f"From: {sender}",
        f"To: {recipient}",
        f"Subject: {subject}",
        f"Message-ID: {msgid}",
        "MIME-Version: 1.0",
    ]
    greeting = f"Hello {recipient.split()[0]},\n\n"
    body = greeting + gen.text(gen.size(300, 6000)) + f"\nBest regards\n{sender.split(' <')[0]}\n"
    if rng.random() >= 0.08:
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        return ("\n".join(headers) + "\n\n" + body).encode()
    boundary = f"=_{rng.getrandbits(64):016x}"
    name, ctype, data = _attachment(gen, cap)
    encoded = base64.encodebytes(data).decode("ascii")
    headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    parts = [
        "This is a multi-part message in MIME format.",
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}",
        f'--{boundary}\nContent-Type: {ctype}; name="{name}"\nContent-Transfer-Encoding: base64\n'
        f'Content-Disposition: attachment; filename="{name}"\n\n{encoded}',
        f"--{boundary}--\n",
    ]
    return ("\n".join(headers) + "\n\n" + "\n".join(parts)).encode()


def _mail_store(gen: _Gen, root: Path, budget: int) -> None:
    rng = gen.rng
    users = _FIRST[: max(3, min(len(_FIRST), budget // (12 << 20) + 3))]
    folders = ["", ".Sent", ".Archive.2023", ".Projects"]
    for user in users:
        for folder in folders:
            for sub in ("cur", "new", "tmp"):
                (root / user / "Maildir" / folder / sub).mkdir(parents=True, exist_ok=True)
    start = gen.bytes
    serial = 0
    cap = max(50_000, budget // 40)
    while gen.bytes - start < budget:
        user = rng.choice(users)
        folder = rng.choices(folders, weights=[6, 3, 2, 1])[0]
        if folder == ".Archive.2023":
            when = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
        else:
            when = gen.when()
        data = _message(gen, user, when, cap, sent=folder == ".Sent")
        serial += 1
        unread = folder == "" and rng.random() < 0.08
        base = f"{int(when.timestamp())}.M{rng.randrange(1_000_000)}P{rng.randint(1000, 65000)}.mail,S={len(data)}"
        wire_size = len(data) + data.count(b"\n")  # with CRLF line ends, as Dovecot counts W=
        flags = rng.choice(["S", "S", "RS", "FS"])
        name = base if unread else f"{base},W={wire_size}:2,{flags}"
        gen.write(root / user / "Maildir" / folder / ("new" if unread else "cur") / name, data, when)


# ------------------------------------------------------------------------------------------ share


_DAYS = [f"{_START + timedelta(days=d):%Y-%m-%d}" for d in range(_SPAN_SECONDS // 86400)]
_STATUS = ["paid", "paid", "paid", "open", "overdue"]


def _csv(gen: _Gen, nbytes: int) -> bytes:
    random = gen.rng.random
    rows = ["date;invoice;customer;net;vat;gross;status"]
    size = 0
    days, companies = len(_DAYS), len(_COMPANIES)
    while size < nbytes:
        day = _DAYS[int(random() * days)]
        net = int(random() * 2_000_000 + 1000) / 100
        row = (
            f"{day};INV-{day[:4]}-{int(random() * 9999) + 1:04d};{_COMPANIES[int(random() * companies)]};"
            f"{net:.2f};{net * 0.19:.2f};{net * 1.19:.2f};{_STATUS[int(random() * 5)]}"
        )
        rows.append(row)
        size += len(row) + 1
    return ("\n".join(rows) + "\n").encode()


def _html(gen: _Gen, nbytes: int) -> bytes:
    title = gen.sentence()
    cells = "".join(
        f"<tr><td>{gen.rng.choice(_COMPANIES)}</td><td>{gen.rng.randint(1, 999)}</td><td>{gen.sentence()}</td></tr>\n"
        for _ in range(max(1, nbytes // 120))
    )
    return (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>\n<h1>{title}</h1>\n"
        f"<table>\n{cells}</table>\n</body></html>\n"
    ).encode()


def _binary(gen: _Gen, kind: str, nbytes: int) -> bytes:
    headers = {
        "jpg": b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00II*\x00\x08\x00\x00\x00",
        "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        "xlsx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00",
        "docx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00",
        "pdf": b"%PDF-1.6\n%\xe2\xe3\xcf\xd3\n",
    }
    return headers[kind] + gen.noise(nbytes)


def _share_file(gen: _Gen, cap: int) -> tuple[str, str, bytes]:
    """(folder, file name, content) of one share file."""
    rng = gen.rng
    when = gen.when()
    year = when.year
    kind = rng.choices(
        ["notes", "csv", "html", "policy", "jpg", "zip", "xlsx", "docx", "pdf"], weights=[14, 8, 4, 3, 6, 1, 3, 3, 4]
    )[0]
    project = rng.choice(_PROJECTS)
    if kind == "notes":
        folder = rng.choice([f"Board Minutes/{year}", f"Projects/{project}/Docs", "Sales/Notes", "IT/Notes"])
        name = f"Meeting notes {when:%Y-%m-%d} {rng.choice(_WORDS)}.txt"
        return folder, name, gen.text(gen.size(2000, 200_000)).encode()
    if kind == "csv":
        folder = rng.choice([f"Finance/{year}/Exports", "Sales/Reports"])
        return (
            folder,
            f"Q{(when.month - 1) // 3 + 1}-{year} {rng.choice(['sales', 'invoices', 'costs'])}.csv",
            _csv(gen, gen.size(5000, min(cap, 3_000_000))),
        )
    if kind == "html":
        name = f"report-{when:%Y-%m}-{rng.randint(1, 99):02d}.html"
        return "Sales/Reports", name, _html(gen, gen.size(5000, 400_000))
    if kind == "policy":
        name = rng.choice(["Remote work", "Travel expenses", "IT security", "Vacation", "Data protection"])
        return "HR/Policies", f"Policy - {name} v{rng.randint(1, 6)}.md", gen.text(gen.size(3000, 60_000)).encode()
    if kind == "jpg":
        folder = rng.choice([f"Projects/{project}/Photos", "Marketing/Images", f"Projects/{project}/Drawings"])
        return folder, f"IMG_{rng.randint(1000, 9999)}.jpg", _binary(gen, "jpg", gen.size(80_000, min(cap, 3_000_000)))
    if kind == "zip":
        return (
            f"Archive/{year}",
            f"Archive {rng.choice(_WORDS)} {year}.zip",
            _binary(gen, "zip", gen.size(200_000, min(cap, 6_000_000))),
        )
    if kind in ("xlsx", "docx"):
        folder = rng.choice([f"Finance/{year}/Budget", f"Projects/{project}/Docs", "Templates"])
        stem = rng.choice(["budget", "offer", "timesheet", "letter", "plan", "calculation"])
        return folder, f"{stem}-{year}-{rng.randint(1, 40):02d}.{kind}", _binary(gen, kind, gen.size(15_000, 900_000))
    folder = rng.choice([f"Finance/{year}/Invoices", f"Finance/{year}/Statements", "HR/Contracts"])
    return folder, f"INV-{year}-{rng.randint(1, 9999):04d}.pdf", _binary(gen, "pdf", gen.size(30_000, 1_500_000))


def _share(gen: _Gen, root: Path, budget: int) -> None:
    start = gen.bytes
    cap = max(100_000, budget // 25)
    specials = [
        ("Finance", "Übersicht Budget 2024.txt"),
        ("Marketing", "Café-Flyer Entwurf.txt"),
        (
            "Projects/Warehouse Extension/Docs/Approvals/Building authority/Correspondence 2023",
            "Letter to the building authority regarding the revised fire safety concept - final version.txt",
        ),
    ]
    for folder, name in specials:
        gen.write(root / folder / name, gen.text(4000).encode(), gen.when())
    while gen.bytes - start < budget:
        folder, name, data = _share_file(gen, cap)
        gen.write(root / folder / name, data, gen.when())


def _date_directories(root: Path) -> None:
    """Give every directory the newest mtime among its contents, bottom-up, as real trees have."""
    empty = int(_START.timestamp()) * 1_000_000_000
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        newest = empty
        for name in dirnames + filenames:
            newest = max(newest, os.stat(os.path.join(dirpath, name), follow_symlinks=False).st_mtime_ns)
        os.utime(dirpath, ns=(newest, newest))


def generate_demo_tree(dest: str | os.PathLike[str], *, size: int = DEFAULT_SIZE, seed: int = 1) -> DemoTree:
    """Create dest/mail and dest/share holding about `size` bytes; dest must be empty or absent."""
    root = Path(dest)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    if size < 1 << 20:
        raise ValueError("size must be at least 1 MiB")
    gen = _Gen(seed)
    mail, share = root / "mail", root / "share"
    mail.mkdir(parents=True)
    share.mkdir(parents=True)
    _mail_store(gen, mail, int(size * MAIL_SHARE))
    _share(gen, share, size - gen.bytes)
    _date_directories(root)
    return DemoTree(root=root, mail=mail, share=share, files=gen.files, bytes=gen.bytes, seed=seed)
