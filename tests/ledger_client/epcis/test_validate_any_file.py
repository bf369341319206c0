"""``rxledger epcis validate`` gives every file a verdict: whatever bytes it holds, no
traceback and no internal error, exit 0 when valid and 1 with the reasons when not."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from epcis_files import DSCSA, dscsa_xml, load_example
from hypothesis import given, settings
from hypothesis import strategies as st
from json_mutations import json_paths, parent_of
from lxml import etree
from typer.testing import CliRunner

from ledger_client.cli import app
from ledger_client.epcis.hashing import GS1_CONTEXTS
from ledger_client.epcis.import12 import convert_12_xml

ROOT = Path(__file__).resolve().parents[3]
GS1_12 = ROOT / "tests" / "data" / "gs1-epcis-xsl12"
XML_SAMPLES = [
    dscsa_xml("cardinal_health"),
    dscsa_xml("sample_hospital"),
    (GS1_12 / "AggregationEvent.xml").read_bytes(),
    (GS1_12 / "TransactionEvent.xml").read_bytes(),
]
JSON_SAMPLES = [
    load_example("Example_9.6.1-ObjectEvent.jsonld"),
    load_example("WithSensorData__SensorDataExample1.jsonld"),
    convert_12_xml(dscsa_xml("cardinal_health")),  # commissioning with ILMD, packing
]
XML_TEXT = st.text(alphabet=st.sampled_from("ab:/.#%&<>\"'[]{}\\ é\n"), max_size=10)
TEXT = XML_TEXT | st.just("\x00")
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
MEANINGFUL = st.sampled_from(
    [*sorted(GS1_CONTEXTS), "urn:epc:id:sgtin:0614141.107346.2017", "2005-04-03T20:33:31Z"]
)
JSON_VALUES = st.recursive(
    SCALARS | MEANINGFUL,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
XML_NAMES = [
    "epcis:EPCISDocument", "EPCISHeader", "EPCISBody", "EventList", "extension", "ObjectEvent",
    "AggregationEvent", "TransactionEvent", "eventTime", "eventTimeZoneOffset", "epcList",
    "epc", "action", "bizStep", "readPoint", "id", "bizTransactionList", "bizTransaction",
    "quantityList", "quantityElement", "quantity", "ilmd", "cbvmda:lotNumber", "x:y",
]  # fmt: skip
MARKUP = [
    "<?xml version='1.0'?>", '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1">',
    "</epcis:EPCISDocument>", "<!DOCTYPE a>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;",
    "&x;", "&#0;", ' xmlns:x="urn:x"', ' type="', '"', "/>", ">", "</", "<",
]  # fmt: skip
XML_TOKENS = st.sampled_from(MARKUP + XML_NAMES) | TEXT


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    """A GS1 or DSCSA sample with one value replaced by arbitrary JSON, or removed."""
    doc = copy.deepcopy(draw(st.sampled_from(JSON_SAMPLES)))
    path = draw(st.sampled_from(list(json_paths(doc))))
    if not path:
        return json.dumps(draw(JSON_VALUES)).encode()
    parent = parent_of(doc, path)
    if draw(st.booleans()):
        parent[path[-1]] = draw(JSON_VALUES)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return json.dumps(doc).encode()


@st.composite
def mutated_xml(draw: st.DrawFn) -> bytes:
    """An EPCIS 1.2 sample with one element removed, repeated, renamed, re-texted or given
    an attribute."""
    root = etree.fromstring(draw(st.sampled_from(XML_SAMPLES)))
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    el = draw(st.sampled_from(elements))
    parent = el.getparent()
    change = draw(st.sampled_from(["remove", "repeat", "rename", "text", "attribute"]))
    if change == "remove" and parent is not None:
        parent.remove(el)
    elif change == "repeat" and parent is not None:
        parent.insert(parent.index(el), copy.deepcopy(el))
    elif change == "rename":
        el.tag = draw(st.sampled_from(XML_NAMES)).split(":")[-1]
    elif change == "text":
        el.text = draw(XML_TEXT)
    else:
        name = draw(
            st.sampled_from(["type", "id", "{http://www.w3.org/2001/XMLSchema-instance}nil"])
        )
        el.set(name, draw(XML_TEXT))
    return bytes(etree.tostring(root))


FILES = (
    st.binary(max_size=300)
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
    | st.lists(XML_TOKENS, max_size=30).map(lambda parts: "".join(parts).encode())
    | mutated_json()
    | mutated_xml()
)


def _validate(data: bytes) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "partner-file"
        path.write_bytes(data)
        result = CliRunner().invoke(app, ["epcis", "validate", "--json", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


@settings(max_examples=200)
@given(FILES)
def test_validate_gives_any_file_a_verdict_without_a_traceback(data: bytes) -> None:
    code, out, err = _validate(data)
    assert "Traceback" not in out + err
    assert err == ""
    (entry,) = json.loads(out)["files"]
    assert code == (0 if entry["valid"] else 1)
    if not entry["valid"]:
        assert entry["errors"] and all(isinstance(e, str) and e for e in entry["errors"])
        assert not [e for e in entry["errors"] if "internal error" in e]


def test_the_samples_the_mutations_start_from_are_valid() -> None:
    """The samples the strategies start from are valid (except DSCSA's broken fragment), so
    the mutations above start from documents that reach hashing and mapping."""
    for data in XML_SAMPLES + [json.dumps(doc).encode() for doc in JSON_SAMPLES]:
        code, out, _ = _validate(data)
        assert (code, json.loads(out)["files"][0]["errors"]) == (0, [])
    broken = (DSCSA / "epcis_1.2.master_data_sample.xml").read_bytes()
    assert _validate(broken)[0] == 1


def test_validate_in_its_own_process_prints_verdicts_not_tracebacks(tmp_path: Path) -> None:
    """The entry point, on files of every kind at once (bytes, broken XML, JSON that is no
    document, bug 1's two documents, an event the generator cannot hash), exits 1 with
    one verdict each."""
    bug_1 = copy.deepcopy(JSON_SAMPLES[0])
    bug_1["@context"][0] = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
    bug_1["epcisBody"]["eventList"][0]["bizTransactionList"] = [{"bizTransaction": "urn:x:1"}]
    private = copy.deepcopy(bug_1)
    private["@context"][0] = "https://partner.example/context.jsonld"
    contents = [b"\xff\xfe\x00<", b"<a><b></a>", b"<EPCISDocument/>", b"[]",
                json.dumps(bug_1).encode(), json.dumps(private).encode()]  # fmt: skip
    paths = [tmp_path / f"file{i}" for i in range(len(contents))]
    for path, content in zip(paths, contents, strict=True):
        path.write_bytes(content)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from ledger_client.cli import main; main()"]
    done = subprocess.run([*command, "epcis", "validate", "--json", *map(str, paths)],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert (done.returncode, done.stderr) == (1, "")
    files = json.loads(done.stdout)["files"]
    assert [f["valid"] for f in files] == [False] * 4 + [True, False]
    assert files[5]["errors"] == [
        "/epcisBody/eventList/0: event hash cannot be computed: JSON-LD context "
        "https://partner.example/context.jsonld is not available offline"
    ]
