"""The `kiosk` command speaks the technician's language (kiosk/commands/_text.py, the `cli` catalog):
$KIOSK_LANG, else the locale ($LC_ALL, $LC_MESSAGES, $LANG), else `[kiosk] language` of the config,
else zh_CN; help, messages, errors and argparse's own text alike.

The rest of the suite runs in English (tests/conftest.py sets KIOSK_LANG=en); each run here sets its
own language in a `kiosk` subprocess, as a technician's shell would.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from kiosk import i18n
from kiosk.commands import _text
from tests.conftest import KIOSK, ROOT, write_config

LOCALE_VARIABLES = ("KIOSK_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "KIOSK_CONFIG")
HAN = re.compile(r"[\u4e00-\u9fff]")


def kiosk(*args: str, config: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """`kiosk ARGS` as a subprocess whose language variables are only those given."""
    full = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
    full.update(env, KIVY_NO_ARGS="1")
    argv = [str(KIOSK)] + (["--config", str(config)] if config else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=full, cwd=ROOT)


def undemo(directory: Path, **replace: str) -> Path:
    """The default demo config with `[kiosk] demo = false`: its demo values are then problems."""
    return write_config(directory, **{r"^demo = true": "demo = false"}, **replace)


def chinese(text: str) -> bool:
    return bool(HAN.search(text))


# -- what the technician reads ---------------------------------------------------------------------

def test_help_lists_the_commands_in_chinese_with_argparse_usage_translated():
    run = kiosk("--help", KIOSK_LANG="zh_CN")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("用法：kiosk ")
    assert re.search(r"(?m)^\s+central\s+参考中心平台", run.stdout)
    assert "显示此帮助信息并退出" in run.stdout
    assert "show this help message" not in run.stdout


def test_a_usage_error_says_in_chinese_what_is_wrong_and_exits_2():
    run = kiosk("sync", "--bogus", KIOSK_LANG="zh_CN")
    assert run.returncode == 2
    assert "用法：kiosk " in run.stderr
    assert "kiosk: 错误：无法识别的参数：--bogus" in run.stderr


def test_a_missing_required_argument_is_named_in_chinese():
    run = kiosk("config", "keygen", KIOSK_LANG="zh_CN")
    assert run.returncode == 2
    assert "缺少以下必需参数：--out" in run.stderr


def test_config_check_names_each_demo_value_by_its_key_in_chinese(tmp_path):
    run = kiosk("config", "check", config=undemo(tmp_path), KIOSK_LANG="zh_CN")
    assert run.returncode == 2
    assert re.search(r"central\.secret: 这是演示大厅的终端密钥", run.stderr)
    assert re.search(r"devices\.idcard\.port: sim://idcard 是内置模拟器", run.stderr)
    assert "`kiosk provision`" in run.stderr   # commands stay as they are typed
    assert "demo hall" not in run.stderr


def test_config_check_json_keeps_its_keys_and_gives_the_problems_in_chinese(tmp_path):
    run = kiosk("config", "check", "--json", config=undemo(tmp_path), KIOSK_LANG="zh_CN")
    assert run.returncode == 2
    doc = json.loads(run.stdout)
    assert doc["ok"] is False
    found = {v["key"]: v["problem"] for v in doc["demo_values"]}
    assert chinese(found["privacy.hash_key"])


def test_central_export_of_a_missing_database_says_so_in_chinese():
    run = kiosk("central", "export", "--db", "/nonexistent/x.db", KIOSK_LANG="zh_CN")
    assert run.returncode == 2
    assert "/nonexistent/x.db 处没有平台数据库" in run.stderr


def test_retrying_a_dead_item_that_is_not_there_says_so_in_chinese(tmp_path):
    run = kiosk("sync", "retry-dead", "--seq", "99999", config=write_config(tmp_path), KIOSK_LANG="zh_CN")
    assert run.returncode == 1
    assert "没有序号为 99999 的死信条目" in run.stderr


@pytest.mark.parametrize("args, code, said", [
    (("central", "export", "--db", "/nonexistent/x.db", "--json"), 2, "处没有平台数据库"),
    (("sync", "--bogus", "--json"), 2, "kiosk: 错误：无法识别的参数：--bogus"),
    (("--config", "/nonexistent/kiosk.toml", "queue", "--json"), 2, "找不到配置文件"),
])
def test_a_json_error_is_in_chinese_with_the_same_exit_status(args, code, said):
    run = kiosk(*args, KIOSK_LANG="zh_CN")
    assert run.returncode == code
    doc = json.loads(run.stdout)
    assert doc["ok"] is False and doc["exit"] == code
    assert said in doc["error"]


def test_a_config_that_cannot_be_read_is_named_in_chinese(tmp_path):
    run = kiosk("queue", config=tmp_path / "absent.toml", KIOSK_LANG="zh_CN")
    assert run.returncode == 2
    assert f"{tmp_path / 'absent.toml'}: 找不到配置文件" in run.stderr


# -- which language ---------------------------------------------------------------------------------

def test_a_chinese_locale_decides_without_kiosk_lang():
    run = kiosk("--help", LANG="zh_CN.UTF-8")
    assert run.stdout.startswith("用法：")


def test_an_english_locale_decides_without_kiosk_lang(tmp_path):
    # the config says zh_CN; the locale, asked first, says English
    run = kiosk("--help", config=write_config(tmp_path), LANG="en_US.UTF-8")
    assert run.stdout.startswith("usage: kiosk ")


@pytest.mark.parametrize("language, usage, missing", [("zh_CN", "用法：", "没有序号为 99999"),
                                                      ("en", "usage: ", "no dead item with seq 99999")])
def test_under_the_c_locale_the_config_language_decides(tmp_path, language, usage, missing):
    config = write_config(tmp_path, **{r"^language = .*$": f'language = "{language}"'})
    assert kiosk("--help", config=config, LANG="C").stdout.startswith(usage)
    run = kiosk("sync", "retry-dead", "--seq", "99999", config=config, LANG="C.UTF-8")
    assert run.returncode == 1
    assert missing in run.stderr


def test_kiosk_lang_overrides_the_locale_and_the_config(tmp_path):
    config = write_config(tmp_path, **{r"^language = .*$": 'language = "zh_CN"'})
    run = kiosk("--help", config=config, KIOSK_LANG="en", LANG="zh_CN.UTF-8")
    assert run.stdout.startswith("usage: kiosk ")


def _choose(argv=(), **environ) -> str:
    return _text.choose_language(list(argv), environ)


def test_the_language_rule_in_order(tmp_path):
    english = write_config(tmp_path / "en", **{r"^language = .*$": 'language = "en"'})
    broken = tmp_path / "broken.toml"
    broken.write_text("[kiosk\nlanguage = 'en'", encoding="utf-8")
    assert _choose(KIOSK_LANG="en", LANG="zh_CN.UTF-8") == "en"
    assert _choose(KIOSK_LANG="fr", LANG="en_GB.UTF-8") == "en"                 # an unknown KIOSK_LANG passes
    assert _choose(LC_ALL="zh_TW.UTF-8", LANG="en_US.UTF-8") == "zh_CN"        # LC_ALL is read first
    assert _choose(["--config", str(english)], LC_ALL="C", LANG="zh_CN.UTF-8") == "en"   # C: the config
    assert _choose([f"--config={english}"], LANG="POSIX") == "en"
    assert _choose(LANG="C.UTF-8", KIOSK_CONFIG=str(english)) == "en"
    assert _choose(["--config", str(broken)], LANG="C") == "zh_CN"            # unreadable: the default
    assert _choose(["--config", str(tmp_path / "absent.toml")]) == "zh_CN"
    # a --config after the command word is the command's, not the command line's
    assert _choose(["queue", "--config", str(english)], KIOSK_CONFIG=str(tmp_path / "absent.toml")) == "zh_CN"


# -- the catalogs -----------------------------------------------------------------------------------

SOURCES = sorted((ROOT / "kiosk" / "commands").glob("*.py")) + [
    ROOT / "kiosk" / "cli.py", ROOT / "kiosk" / "provisioning.py", ROOT / "kiosk" / "config.py"]


def _extract(path: Path, keywords: dict) -> set[str]:
    with path.open("rb") as f:
        return {msg if isinstance(msg, str) else msg[0] for _line, msg, _comments, _ctx in
                extract("python", f, keywords=keywords)}


def source_msgids() -> set[str]:
    """Every msgid the command line passes to `_t()`, `N_t()` or `ngettext()`, and argparse's own."""
    found: set[str] = set()
    for path in SOURCES:
        found |= _extract(path, {"_t": None, "N_t": None, "ngettext": (1, 2)})
    return found | argparse_msgids()


def argparse_msgids() -> set[str]:
    return _extract(Path(argparse.__file__), {"_": None, "ngettext": (1, 2)})


def catalog(lang: str):
    with i18n.po_path(lang, domain="cli").open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(f, locale=lang) if m.id}


def test_the_extraction_finds_the_command_lines_text():
    found = source_msgids()
    assert "print one JSON document on stdout" in found
    assert "the following arguments are required: %s" in found
    assert "{path}: config file not found (pass --config PATH or set {variable})" in found


def test_every_string_of_the_command_line_has_a_chinese_translation_and_none_is_fuzzy():
    entries = catalog("zh_CN")
    missing = sorted(m for m in source_msgids() if m not in entries or not _strings(entries[m])[0])
    assert not missing, f"{i18n.po_path('zh_CN', domain='cli')} lacks translations for: {missing}"
    fuzzy = sorted(m for m, e in entries.items() if e.fuzzy)
    assert not fuzzy, f"fuzzy translations: {fuzzy}"


def test_the_english_catalog_has_every_msgid():
    missing = sorted(source_msgids() - set(catalog("en")))
    assert not missing, f"{i18n.po_path('en', domain='cli')} lacks: {missing}"


def test_the_catalogs_carry_no_strings_the_code_no_longer_uses():
    # ui.py and migrate.py: their text may join the catalog before their own calls do
    stale = sorted(set(catalog("zh_CN")) - source_msgids())
    assert not stale, f"entries no code uses: {stale}"


def _strings(entry) -> list[str]:
    return [entry.string] if isinstance(entry.string, str) else list(entry.string)


PLACEHOLDER = re.compile(r"\{[a-z_]+(?:![rsa])?\}|%\([a-z_]+\)[sdr]|%[sdr]")


def test_every_translation_keeps_the_placeholders_and_the_commands_as_typed():
    wrong = []
    for msgid, entry in catalog("zh_CN").items():
        for text in _strings(entry):
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append((msgid, text))
            if sorted(re.findall(r"`[^`]+`", msgid)) != sorted(re.findall(r"`[^`]+`", text)):
                wrong.append((msgid, text))
    assert not wrong, wrong


def test_the_compiled_catalog_is_what_the_command_line_reads():
    assert _text.load("zh_CN").gettext("the following arguments are required: %s") == "缺少以下必需参数：%s"
    assert _text.load("en").gettext("the following arguments are required: %s") == \
        "the following arguments are required: %s"


def test_chinese_help_is_wrapped_by_the_columns_it_takes_on_a_terminal():
    run = kiosk("central", "add-user", "--help", KIOSK_LANG="zh_CN", COLUMNS="80")
    assert run.returncode == 0
    assert max(_text._columns(line) for line in run.stdout.splitlines()) <= 80
    assert not any(line.lstrip().startswith(("，", "。", "；", "）")) for line in run.stdout.splitlines())


def test_english_help_is_wrapped_as_argparse_wraps_it():
    text = "the key that seals secrets at rest (default: central.key beside a SQLite database)"
    import textwrap
    assert _text.wrap(text, 30) == textwrap.wrap(text, 30)
