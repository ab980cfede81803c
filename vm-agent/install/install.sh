#!/bin/sh
# Installs the agent-control-plane node daemon (vm-agent) as the systemd service
# agent-control-plane-vm-agent.service. Run as root, by cloud-init on a new cloud node, or by hand
# on a machine you own. Everything it downloads comes from the control plane, checked against the
# sha256 it was given; git, tmux and socat come from the distribution's packages.
#
# A machine you own joins with the one-line command the nodes page shows: given ACP_REGISTRATION_TOKEN
# (one-time) and ACP_CONTROL_PLANE_URL instead of the node's parameters, the installer first registers
# the machine (POST /api/machines/register), which answers the parameters below as KEY='value' lines,
# then installs as with them. The answer is kept in the parameters file until the install succeeds, so
# running the same command again after a failure goes on with it (the token works once).
#
# A cloud node's cloud-init gives ACP_ENROLLMENT_TOKEN (one-time) instead of ACP_NODE_CALLBACK_TOKEN:
# a cloud answers a server's user data to any process on it for as long as it runs, agents included,
# so the node's own token is never in it. The installer exchanges the enrollment token first (POST
# /api/nodes/$ACP_NODE_ID/enroll), which answers ACP_NODE_CALLBACK_TOKEN; the answer is appended to
# the parameters file until the install succeeds, and the spent enrollment token is worthless.
#
# Parameters, from the environment or from a parameters file of KEY='value' lines (ACP_PARAMS_FILE,
# default $ACP_ROOT/etc/agent-control-plane/install.env, removed once installed: the token then lives
# only in the daemon's environment file, root-only):
#   ACP_CONTROL_PLANE_URL         where the daemon posts its callbacks (required)
#   ACP_NODE_ID                   the node's id (required)
#   ACP_NODE_CALLBACK_TOKEN       the node's callback token (required, unless ACP_ENROLLMENT_TOKEN is
#                                 given; never printed, never an argument)
#   ACP_ENROLLMENT_TOKEN          a cloud node's one-time token, exchanged for ACP_NODE_CALLBACK_TOKEN
#                                 (never written to the daemon's environment)
#   ACP_CONTROL_PLANE_PUBLIC_JWK  the control plane's public key, a JWK as JSON (required)
#   ACP_ARTIFACT_URL              the vm-agent archive (default $ACP_CONTROL_PLANE_URL/api/vm-agent/artifact)
#   ACP_ARTIFACT_SHA256           its sha256 (required: nothing unchecked is installed)
#   ACP_RUNTIME_URL, ACP_RUNTIME_SHA256, ACP_RUNTIME_ARCH
#                                 the control plane's own Node (x64 or arm64), used only when this
#                                 machine has no Node $ACP_NODE_MIN_VERSION or later
#   ACP_AGENT_HOST                the address the daemon listens on (default 0.0.0.0)
#   ACP_AGENT_PUBLIC_HOST         the address the control plane reaches it at, which it reports
#                                 (default: read from ACP_AGENT_PUBLIC_HOST_URL, else ACP_AGENT_HOST;
#                                 with a registration token, sent along, and the default is the
#                                 address the registration comes from)
#   ACP_AGENT_PUBLIC_HOST_URL     where this machine's public address can be read (a cloud's
#                                 metadata service, e.g. Hetzner's .../metadata/public-ipv4)
#   ACP_AGENT_PORT                its port (required)
#   ACP_REGISTRATION_TOKEN        a one-time token from the nodes page: register this machine first
#   ACP_NODE_MIN_VERSION          the oldest Node the daemon runs on (default 20.19)
#   ACP_CONNECT_TIMEOUT           seconds to connect to the control plane (default 20)
#   ACP_DOWNLOAD_TIMEOUT          seconds one download may take (default 600)
#   ACP_ROOT                      install under this folder instead of / (tests; the unit then names
#                                 the files there); no package is installed then
#   ACP_SYSTEMCTL                 the systemctl to call (default systemctl)
set -eu

log() { printf 'agent-control-plane installer: %s\n' "$*" >&2; }
fail() {
  log "error: $*"
  exit 1
}

ACP_ROOT=${ACP_ROOT:-}
ACP_PARAMS_FILE=${ACP_PARAMS_FILE:-$ACP_ROOT/etc/agent-control-plane/install.env}
if [ -f "$ACP_PARAMS_FILE" ]; then
  set -a
  # shellcheck disable=SC1090 # written by cloud-init (root, 0600) from values the control plane checked
  . "$ACP_PARAMS_FILE"
  set +a
fi

case $ACP_ROOT in
  *[[:space:]]*) fail "ACP_ROOT may not contain white space (systemd splits ExecStart on it)" ;;
esac
if [ -z "$ACP_ROOT" ] && [ "$(id -u)" != 0 ]; then fail "run this as root: the daemon is a system service that creates a Unix user per workspace"; fi

required() {
  eval "value=\${$1:-}"
  [ -n "$value" ] || fail "$1 is required${2:-}"
}

is_sha256() {
  case $1 in
    *[!0-9a-f]*) return 1 ;;
  esac
  [ ${#1} -eq 64 ]
}

# A value goes into the daemon's environment file between single quotes, which both systemd and sh
# read literally; one that could end the quotes or the line is refused.
check_value() {
  case $2 in
    *"'"* | *\\* | *"
"*) fail "$1 may not contain a single quote, a backslash or a line break" ;;
  esac
}

# $1 is one of the control plane's one-time tokens: prefix $2, then base64url characters; else fail saying $3.
one_time_token() {
  case $1 in
    "$2"*[!A-Za-z0-9_-]* | "$2") fail "$3" ;;
    "$2"*) ;;
    *) fail "$3" ;;
  esac
}

NODE_PARAMETERS="ACP_NODE_ID ACP_NODE_CALLBACK_TOKEN ACP_CONTROL_PLANE_PUBLIC_JWK ACP_ARTIFACT_SHA256 ACP_AGENT_PORT"
required ACP_CONTROL_PLANE_URL
REGISTER=""
ENROLL=""
if [ -n "${ACP_REGISTRATION_TOKEN:-}" ] && [ -z "${ACP_NODE_ID:-}" ]; then
  REGISTER=1
  one_time_token "$ACP_REGISTRATION_TOKEN" acpm_ "ACP_REGISTRATION_TOKEN is not a registration token: copy the install command from the nodes page again"
  case ${ACP_AGENT_PUBLIC_HOST:-} in
    *[!A-Za-z0-9.:-]*) fail "ACP_AGENT_PUBLIC_HOST must be an IP address or a host name" ;;
  esac
elif [ -n "${ACP_REGISTRATION_TOKEN:-}" ]; then
  log "going on with the registration saved in $ACP_PARAMS_FILE (node $ACP_NODE_ID): a registration token works once"
elif [ -n "${ACP_ENROLLMENT_TOKEN:-}" ] && [ -z "${ACP_NODE_CALLBACK_TOKEN:-}" ]; then
  ENROLL=1
  one_time_token "$ACP_ENROLLMENT_TOKEN" acpe_ "ACP_ENROLLMENT_TOKEN is not an enrollment token (acpe_…)"
  # Everything else first: a parameters file that lacks something must not spend the token.
  for name in $NODE_PARAMETERS; do
    if [ "$name" != ACP_NODE_CALLBACK_TOKEN ]; then required "$name"; fi
  done
  # It goes into the enrollment's URL.
  case $ACP_NODE_ID in
    *[!A-Za-z0-9_-]*) fail "ACP_NODE_ID may hold only letters, digits, _ and -" ;;
  esac
elif [ -n "${ACP_ENROLLMENT_TOKEN:-}" ]; then
  log "going on with the enrollment saved in $ACP_PARAMS_FILE (node $ACP_NODE_ID): an enrollment token works once"
else
  for name in $NODE_PARAMETERS; do required "$name"; done
fi
ACP_CONTROL_PLANE_URL=${ACP_CONTROL_PLANE_URL%/}
ACP_AGENT_HOST=${ACP_AGENT_HOST:-0.0.0.0}
ACP_NODE_MIN_VERSION=${ACP_NODE_MIN_VERSION:-20.19}
ACP_CONNECT_TIMEOUT=${ACP_CONNECT_TIMEOUT:-20}
ACP_DOWNLOAD_TIMEOUT=${ACP_DOWNLOAD_TIMEOUT:-600}
ACP_SYSTEMCTL=${ACP_SYSTEMCTL:-systemctl}

SERVICE=agent-control-plane-vm-agent.service
OPT_DIR=$ACP_ROOT/opt/agent-control-plane
ETC_DIR=$ACP_ROOT/etc/agent-control-plane
STATE_DIR=$ACP_ROOT/var/lib/agent-control-plane
ENV_FILE=$ETC_DIR/vm-agent.env
UNIT_FILE=$ACP_ROOT/etc/systemd/system/$SERVICE
# The daemon's own capabilities (VM_AGENT_CAPABILITIES in lib/contracts/vm-agent.ts).
CAPABILITIES="CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_SETUID CAP_SETGID CAP_KILL CAP_AUDIT_WRITE CAP_SYS_ADMIN CAP_NET_ADMIN"

# --- packages -------------------------------------------------------------------------------------
missing=""
# socat: the forwarder from each workspace's network namespace to its egress proxy (vm-agent/egress/).
for tool in git tmux curl tar socat; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
if [ -n "$missing" ]; then
  if [ -z "$ACP_ROOT" ] && command -v apt-get >/dev/null 2>&1; then
    log "installing$missing from the distribution"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing ca-certificates >&2
  else
    fail "this machine lacks$missing; install them from your distribution and run this again"
  fi
fi

# --- registration (a machine someone owns) or enrollment (a cloud node) -------------------------------
# post_answer WHAT PATH BODY EXPECTED: posts BODY (JSON holding a one-time token) to the control plane
# and leaves its answer in $answer, a root-only file beside the parameters file, or fails naming the
# HTTP status and the control plane's reason. The token goes in the body, from printf (a shell
# builtin): never in an argument list. Not retried once sent: an answer that was lost spent its
# token, and a retry would only say so.
post_answer() {
  params_dir=$(dirname "$ACP_PARAMS_FILE")
  mkdir -p "$params_dir"
  chmod 0700 "$params_dir"
  answer=$(mktemp "$params_dir/.answer.XXXXXX")
  status=$(printf '%s' "$3" | curl --silent --show-error --proto '=http,https' \
    --connect-timeout "$ACP_CONNECT_TIMEOUT" --max-time "$ACP_DOWNLOAD_TIMEOUT" \
    --header 'content-type: application/json' --header 'accept: text/plain' --data-binary @- \
    --output "$answer" --write-out '%{http_code}' "$ACP_CONTROL_PLANE_URL$2") || {
    rm -f "$answer"
    fail "could not reach $ACP_CONTROL_PLANE_URL to $1"
  }
  if [ "$status" != "$4" ]; then
    reason=$(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' "$answer" | head -n 1)
    rm -f "$answer"
    fail "the control plane refused to $1 (HTTP $status): ${reason:-no reason given}"
  fi
}

# take_answer WHAT NAMES: sets the parameters of $answer, whose lines must be KEY='value' of NAMES
# (" A B "); anything else refuses the whole answer.
take_answer() {
  while IFS= read -r line || [ -n "$line" ]; do
    name=${line%%=*}
    value=${line#*=}
    case $name in
      "" | *[!A-Z0-9_]*) rm -f "$answer"; fail "the $1 answer has a line that is not KEY='value'" ;;
    esac
    case $2 in
      *" $name "*) ;;
      *) rm -f "$answer"; fail "the $1 answer has an unexpected line ($(printf '%s' "$name" | cut -c 1-40))" ;;
    esac
    case $value in
      \'*\') value=${value#\'}; value=${value%\'} ;;
      *) rm -f "$answer"; fail "the $1 answer's $name is not a quoted value" ;;
    esac
    check_value "$name" "$value"
    eval "$name=\$value"
  done <"$answer"
}

register() {
  log "registering this machine with $ACP_CONTROL_PLANE_URL"
  post_answer "register this machine" /api/machines/register \
    "{\"token\":\"$ACP_REGISTRATION_TOKEN\"${ACP_AGENT_PUBLIC_HOST:+,\"advertisedHost\":\"$ACP_AGENT_PUBLIC_HOST\"}}" 201
  # The node's parameters, nothing else.
  take_answer registration " ACP_CONTROL_PLANE_URL $NODE_PARAMETERS ACP_ARTIFACT_URL ACP_RUNTIME_URL ACP_RUNTIME_SHA256 ACP_RUNTIME_ARCH ACP_AGENT_PUBLIC_HOST "
  # Kept (root-only) until the install succeeds: the same command run again goes on with it.
  mv "$answer" "$ACP_PARAMS_FILE"
  log "registered as node $ACP_NODE_ID"
}

enroll() {
  log "enrolling node $ACP_NODE_ID with $ACP_CONTROL_PLANE_URL"
  post_answer "enroll node $ACP_NODE_ID" "/api/nodes/$ACP_NODE_ID/enroll" "{\"token\":\"$ACP_ENROLLMENT_TOKEN\"}" 200
  # The node's callback token, nothing else.
  take_answer enrollment " ACP_NODE_CALLBACK_TOKEN "
  # Appended (root-only) to the parameters until the install succeeds: run again, it goes on with them.
  (
    umask 077
    cat "$answer" >>"$ACP_PARAMS_FILE"
  )
  rm -f "$answer"
  # Spent: nothing after this needs it, and nothing of it reaches the daemon.
  unset ACP_ENROLLMENT_TOKEN
  log "enrolled node $ACP_NODE_ID"
}

if [ -n "$REGISTER" ]; then register; fi
if [ -n "$ENROLL" ]; then enroll; fi
for name in $NODE_PARAMETERS; do required "$name" " (the control plane's answer lacks it)"; done
ACP_CONTROL_PLANE_URL=${ACP_CONTROL_PLANE_URL%/}
ACP_ARTIFACT_URL=${ACP_ARTIFACT_URL:-$ACP_CONTROL_PLANE_URL/api/vm-agent/artifact}
is_sha256 "$ACP_ARTIFACT_SHA256" || fail "ACP_ARTIFACT_SHA256 must be 64 lowercase hex digits"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d ' ' -f 1; else shasum -a 256 "$1" | cut -d ' ' -f 1; fi
}

# download URL SHA256 FILE: fetches from the control plane and refuses anything but the expected bytes.
download() {
  curl --fail --silent --show-error --location --proto '=http,https' \
    --connect-timeout "$ACP_CONNECT_TIMEOUT" --max-time "$ACP_DOWNLOAD_TIMEOUT" \
    --retry 5 --retry-delay 2 --retry-connrefused --output "$3" "$1" || fail "could not download $1"
  actual=$(sha256_of "$3")
  if [ "$actual" != "$2" ]; then
    rm -f "$3"
    fail "refusing $1: its sha256 is $actual, not the expected $2"
  fi
}

mkdir -p "$OPT_DIR" "$ETC_DIR" "$STATE_DIR" "$(dirname "$UNIT_FILE")"
# Workspace users run Node and the daemon's helpers: the installed code is readable by all, writable by root.
chmod 0755 "$OPT_DIR"
chmod 0700 "$ETC_DIR"
WORK=$(mktemp -d "$OPT_DIR/.install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

# unpack ARCHIVE DIR: a verified archive into DIR, all at once (a half-unpacked folder never has DIR's name).
unpack() {
  staging=$(mktemp -d "$WORK/unpack.XXXXXX")
  tar -xzf "$1" -C "$staging" --no-same-owner
  chmod 0755 "$staging"
  mkdir -p "$(dirname "$2")"
  rm -rf "$2"
  mv "$staging" "$2"
}

# --- Node -----------------------------------------------------------------------------------------
NODE_CHECK='const want = process.argv[1].split(".").map(Number), have = process.versions.node.split(".").map(Number);
process.exit(have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]) ? 0 : 1);'
new_enough() { "$1" -e "$NODE_CHECK" "$ACP_NODE_MIN_VERSION" >/dev/null 2>&1; }

NODE=$(command -v node 2>/dev/null || true)
if [ -n "$NODE" ] && new_enough "$NODE"; then
  log "using this machine's Node at $NODE"
else
  [ -n "${ACP_RUNTIME_URL:-}" ] || fail "this machine has no Node.js $ACP_NODE_MIN_VERSION or later, and the control plane offers none; install one and run this again"
  required ACP_RUNTIME_SHA256 " with ACP_RUNTIME_URL"
  required ACP_RUNTIME_ARCH " with ACP_RUNTIME_URL"
  is_sha256 "$ACP_RUNTIME_SHA256" || fail "ACP_RUNTIME_SHA256 must be 64 lowercase hex digits"
  machine=$(uname -m)
  case $machine in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=$machine ;;
  esac
  if [ "$arch" != "$ACP_RUNTIME_ARCH" ]; then
    fail "this machine has no Node.js $ACP_NODE_MIN_VERSION or later, and the control plane's Node is for $ACP_RUNTIME_ARCH, not this $machine CPU; install Node.js $ACP_NODE_MIN_VERSION or later for it and run this again"
  fi
  runtime_dir=$OPT_DIR/node/$(printf '%s' "$ACP_RUNTIME_SHA256" | cut -c 1-16)
  if [ ! -x "$runtime_dir/bin/node" ]; then
    log "fetching the control plane's Node ($ACP_RUNTIME_ARCH)"
    download "$ACP_RUNTIME_URL" "$ACP_RUNTIME_SHA256" "$WORK/runtime.tar.gz"
    unpack "$WORK/runtime.tar.gz" "$runtime_dir"
  fi
  NODE=$runtime_dir/bin/node
  "$NODE" -e 0 >/dev/null 2>&1 || fail "the control plane's Node does not run on this machine: $("$NODE" --version 2>&1 | head -n 1)"
fi

# --- the daemon -----------------------------------------------------------------------------------
AGENT_DIR=$OPT_DIR/vm-agent/$(printf '%s' "$ACP_ARTIFACT_SHA256" | cut -c 1-16)
if [ ! -f "$AGENT_DIR/vm-agent.mjs" ]; then
  log "fetching the vm-agent"
  download "$ACP_ARTIFACT_URL" "$ACP_ARTIFACT_SHA256" "$WORK/vm-agent.tar.gz"
  unpack "$WORK/vm-agent.tar.gz" "$AGENT_DIR"
fi

# --- the address it reports -------------------------------------------------------------------------
if [ -z "${ACP_AGENT_PUBLIC_HOST:-}" ] && [ -n "${ACP_AGENT_PUBLIC_HOST_URL:-}" ]; then
  ACP_AGENT_PUBLIC_HOST=$(curl --fail --silent --show-error --max-time "$ACP_CONNECT_TIMEOUT" --retry 5 --retry-delay 2 "$ACP_AGENT_PUBLIC_HOST_URL") ||
    fail "could not read this machine's public address from $ACP_AGENT_PUBLIC_HOST_URL"
fi
ACP_AGENT_PUBLIC_HOST=${ACP_AGENT_PUBLIC_HOST:-$ACP_AGENT_HOST}
case $ACP_AGENT_PUBLIC_HOST in
  "" | *[!A-Za-z0-9.:-]*) fail "the daemon's public address must be an IP address or a host name, not '$ACP_AGENT_PUBLIC_HOST'" ;;
esac

for name in ACP_CONTROL_PLANE_URL ACP_NODE_ID ACP_NODE_CALLBACK_TOKEN ACP_CONTROL_PLANE_PUBLIC_JWK ACP_AGENT_HOST ACP_AGENT_PUBLIC_HOST ACP_AGENT_PORT; do
  eval "check_value $name \"\$$name\""
done
WORK_DIR=$STATE_DIR/vm-agent
mkdir -p "$WORK_DIR"
(
  umask 077
  {
    printf "NODE_ID='%s'\n" "$ACP_NODE_ID"
    printf "CONTROL_PLANE_URL='%s'\n" "$ACP_CONTROL_PLANE_URL"
    printf "NODE_CALLBACK_TOKEN='%s'\n" "$ACP_NODE_CALLBACK_TOKEN"
    printf "CONTROL_PLANE_PUBLIC_JWK='%s'\n" "$ACP_CONTROL_PLANE_PUBLIC_JWK"
    printf "VM_AGENT_HOST='%s'\n" "$ACP_AGENT_HOST"
    printf "VM_AGENT_PUBLIC_HOST='%s'\n" "$ACP_AGENT_PUBLIC_HOST"
    printf "VM_AGENT_PORT='%s'\n" "$ACP_AGENT_PORT"
    printf "VM_AGENT_WORK_DIR='%s'\n" "$WORK_DIR"
    printf "HOME='%s'\n" "$STATE_DIR"
    printf "LANG='C.UTF-8'\n"
  } >"$WORK/vm-agent.env"
)
chmod 0600 "$WORK/vm-agent.env"
mv "$WORK/vm-agent.env" "$ENV_FILE"

{
  printf '%s\n' \
    "[Unit]" \
    "Description=agent-control-plane node daemon (vm-agent)" \
    "Wants=network-online.target" \
    "After=network-online.target" \
    "StartLimitIntervalSec=0" \
    "" \
    "[Service]" \
    "Type=simple" \
    "EnvironmentFile=$ENV_FILE" \
    "ExecStart=$NODE $AGENT_DIR/vm-agent.mjs" \
    "WorkingDirectory=$STATE_DIR" \
    "Restart=always" \
    "RestartSec=5" \
    "# Agents run in tmux sessions that outlive a daemon restart (the next daemon adopts them):" \
    "# stopping the service stops the daemon only." \
    "KillMode=process" \
    "# Root, for the Unix user it makes per workspace, but only these of root's capabilities." \
    "CapabilityBoundingSet=$CAPABILITIES" \
    "" \
    "[Install]" \
    "WantedBy=multi-user.target"
} >"$WORK/unit"
chmod 0644 "$WORK/unit"
mv "$WORK/unit" "$UNIT_FILE"

"$ACP_SYSTEMCTL" daemon-reload
"$ACP_SYSTEMCTL" enable "$SERVICE"
# restart, not start: a second run (a new vm-agent) replaces the running daemon.
"$ACP_SYSTEMCTL" restart "$SERVICE"
if [ -f "$ACP_PARAMS_FILE" ]; then rm -f "$ACP_PARAMS_FILE"; fi
log "installed: $SERVICE runs $AGENT_DIR/vm-agent.mjs with $NODE"
