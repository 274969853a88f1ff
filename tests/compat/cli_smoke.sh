#!/usr/bin/env bash
# AWS CLI smoke test against a real `fleetkey serve` process.
#
#   bash tests/compat/cli_smoke.sh
#
# Starts its own server (FLEETKEY_DLL, default the Release build) on free loopback ports, or
# reuses FLEETKEY_ENDPOINT with FLEETKEY_ACCESS_KEY_ID / FLEETKEY_SECRET_ACCESS_KEY (public host
# FLEETKEY_PUBLIC_HOST, default iot.fleetkey.test). The CLI is configured only through
# environment variables and throw-away config files; nothing global is touched.
# FLEETKEY_TEST_STORE=postgres runs the server on a fresh database on the FLEETKEY_TEST_POSTGRES
# server (scripts/postgres.sh create-db), dropped at exit.
# Every check counts; the last line is `cli: N passed, N failed`; exit 1 if anything failed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
DLL="${FLEETKEY_DLL:-$REPO_ROOT/src/Fleetkey/bin/Release/net10.0/fleetkey.dll}"
PUBLIC_HOST="${FLEETKEY_PUBLIC_HOST:-iot.fleetkey.test}"
REGION="eu-west-1"

PASSED=0
FAILED=0
SERVER_PID=""
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fleetkey-cli-XXXXXX")"
LOG="$WORK/server.log"

log() { printf '%s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); log "ok   - $1"; }
fail() {
  FAILED=$((FAILED + 1)); log "FAIL - $1"
  if [[ -n "${2:-}" ]]; then printf '%s\n' "$2" | sed 's/^/       /' | tail -n 25; fi
}

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

server_tail() {
  if [[ -f "$LOG" ]]; then log "--- last 60 lines of $LOG ---"; tail -n 60 "$LOG" || true; log "--- end of server log ---"; fi
}

STOP_RC=""
stop_server() {
  # Sets STOP_RC to the server's exit code after SIGTERM, or "timeout" when it had to be killed.
  # (Not called in a subshell: `wait` only works for children of this shell.)
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      STOP_RC=0
      wait "$pid" 2>/dev/null || STOP_RC=$?
      return 0
    fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  STOP_RC=timeout
}

KEEP_WORK=""
DATABASE=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    stop_server "$SERVER_PID"
  fi
  if [[ -z "$KEEP_WORK" && -z "${FLEETKEY_KEEP_DATA:-}" ]]; then
    rm -rf "$WORK"
    if [[ -n "$DATABASE" ]]; then bash "$REPO_ROOT/scripts/postgres.sh" drop-db "$DATABASE" || true; fi
  fi
}
trap cleanup EXIT

# --------------------------------------------------------------------------- server

if [[ -n "${FLEETKEY_ENDPOINT:-}" ]]; then
  ENDPOINT="${FLEETKEY_ENDPOINT%/}"
  ACCESS_KEY_ID="${FLEETKEY_ACCESS_KEY_ID:-${AWS_ACCESS_KEY_ID:-}}"
  SECRET_ACCESS_KEY="${FLEETKEY_SECRET_ACCESS_KEY:-${AWS_SECRET_ACCESS_KEY:-}}"
  if [[ -z "$ACCESS_KEY_ID" || -z "$SECRET_ACCESS_KEY" ]]; then
    log "FLEETKEY_ENDPOINT is set but FLEETKEY_ACCESS_KEY_ID/FLEETKEY_SECRET_ACCESS_KEY are not"
    log "cli: 0 passed, 1 failed"; exit 1
  fi
  log "using running server $ENDPOINT"
else
  if [[ ! -f "$DLL" ]]; then
    log "$DLL not found: run \`dotnet build Fleetkey.slnx -c Release\` in $REPO_ROOT or set FLEETKEY_DLL"
    log "cli: 0 passed, 1 failed"; exit 1
  fi
  PORT="$(free_port)"; DEVICE_PORT="$(free_port)"
  ENDPOINT="http://127.0.0.1:$PORT"
  ACCESS_KEY_ID="AKIDFLEETKEYTEST0001"
  SECRET_ACCESS_KEY="$(python3 -c 'import secrets;print(secrets.token_hex(20))')"
  mkdir -p "$WORK/data"
  STORE_ARGS=()
  case "${FLEETKEY_TEST_STORE:-sqlite}" in
    sqlite) ;;
    postgres)
      if ! DATABASE="$(bash "$REPO_ROOT/scripts/postgres.sh" create-db 2>"$WORK/create-db.log")"; then
        fail "create a PostgreSQL database for the server" "$(cat "$WORK/create-db.log")"
        DATABASE=""
        log "cli: $PASSED passed, $FAILED failed"; exit 1
      fi
      STORE_ARGS=(--database "$DATABASE")
      log "server database: $DATABASE"
      ;;
    *) fail "FLEETKEY_TEST_STORE=$FLEETKEY_TEST_STORE: expected sqlite or postgres"; log "cli: $PASSED passed, $FAILED failed"; exit 1 ;;
  esac
  FLEETKEY_ROOT_ACCESS_KEY_ID="$ACCESS_KEY_ID" FLEETKEY_ROOT_SECRET_ACCESS_KEY="$SECRET_ACCESS_KEY" \
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    dotnet "$DLL" serve --data "$WORK/data" --http "$ENDPOINT" --device-http "http://127.0.0.1:$DEVICE_PORT" \
      --mqtt-port 0 --public-host "$PUBLIC_HOST" "${STORE_ARGS[@]}" </dev/null >"$LOG" 2>&1 &
  SERVER_PID=$!
  if ! python3 - "$ENDPOINT/health" "$SERVER_PID" <<'PY'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("server exited before /health answered 200")
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit("GET /health did not answer 200 within 60s")
PY
  then
    fail "server starts and answers GET /health" "$(server_tail)"
    KEEP_WORK=1; log "kept $WORK"
    log "cli: $PASSED passed, $FAILED failed"; exit 1
  fi
  pass "server starts and answers GET /health"
fi

# --------------------------------------------------------------------------- CLI environment

touch "$WORK/aws-config" "$WORK/aws-credentials"
export AWS_CONFIG_FILE="$WORK/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
export AWS_ACCESS_KEY_ID="$ACCESS_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$SECRET_ACCESS_KEY"
export AWS_DEFAULT_REGION="$REGION"
export AWS_DEFAULT_OUTPUT=json
export AWS_MAX_ATTEMPTS=1
export AWS_RETRY_MODE=standard
export AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_IOT AWS_CA_BUNDLE || true

iot() { aws --endpoint-url "$ENDPOINT" iot "$@"; }

OUT=""; ERR=""; RC=0
run() {
  # run CMD...: captures stdout in OUT, stderr in ERR and the exit code in RC (never aborts).
  local errf="$WORK/stderr"
  RC=0
  OUT="$("$@" 2>"$errf")" || RC=$?
  ERR="$(cat "$errf")"
}

# check NAME PYTHON-EXPR: runs the previous command's stdout (OUT) through a Python assertion with
# `d` = parsed JSON (None for empty output).
check_json() {
  local name="$1" expr="$2"
  if [[ "$RC" -ne 0 ]]; then fail "$name" "exit $RC: $ERR"; return; fi
  local res
  if res="$(OUT="$OUT" python3 -c '
import json, os, sys
raw = os.environ["OUT"]
d = json.loads(raw) if raw.strip() else None
ok = eval(sys.argv[1], {"d": d, "json": json})
if not ok:
    sys.exit("assertion failed: " + sys.argv[1] + "\noutput: " + raw[:1500])
' "$expr" 2>&1)"; then pass "$name"; else fail "$name" "$res"; fi
}

check_ok() {
  local name="$1"
  if [[ "$RC" -eq 0 ]]; then pass "$name"; else fail "$name" "exit $RC: $ERR"; fi
}

check_error() {
  # check_error NAME CODE: the previous command failed with exit 254 or 255 and CODE on stderr.
  local name="$1" code="$2"
  if [[ "$RC" -ne 254 && "$RC" -ne 255 ]]; then fail "$name" "expected exit 254/255, got $RC; stdout: $OUT; stderr: $ERR"; return; fi
  if [[ "$ERR" != *"$code"* ]]; then fail "$name" "stderr does not contain $code: $ERR"; return; fi
  pass "$name"
}

RUN="cli$(python3 -c 'import uuid;print(uuid.uuid4().hex[:8])')"
TYPE="$RUN-type"
GROUP="$RUN-group"
THING="$RUN-thing"
BATCH="$RUN"

# --------------------------------------------------------------------------- checks

run iot create-thing-type --thing-type-name "$TYPE" \
  --thing-type-properties "thingTypeDescription=CLI smoke type,searchableAttributes=color,batch"
check_json "create-thing-type" "d['thingTypeName'] == '$TYPE' and d['thingTypeArn'] == 'arn:aws:iot:$REGION:000000000000:thingtype/$TYPE' and d['thingTypeId']"

run iot describe-thing-type --thing-type-name "$TYPE"
check_json "describe-thing-type" "d['thingTypeProperties']['thingTypeDescription'] == 'CLI smoke type' and d['thingTypeProperties']['searchableAttributes'] == ['color', 'batch'] and d['thingTypeMetadata']['deprecated'] is False and isinstance(d['thingTypeMetadata']['creationDate'], (int, float, str))"

run iot create-thing-group --thing-group-name "$GROUP" \
  --thing-group-properties 'thingGroupDescription="CLI smoke group",attributePayload={attributes={site=ams}}'
check_json "create-thing-group" "d['thingGroupName'] == '$GROUP' and d['thingGroupArn'].endswith(':thinggroup/$GROUP') and d['thingGroupId']"

run iot create-thing --thing-name "$THING" --thing-type-name "$TYPE" \
  --attribute-payload "{\"attributes\": {\"color\": \"red\", \"batch\": \"$BATCH\"}}"
check_json "create-thing with --attribute-payload" "d['thingName'] == '$THING' and d['thingArn'] == 'arn:aws:iot:$REGION:000000000000:thing/$THING' and d['thingId']"

run iot describe-thing --thing-name "$THING"
check_json "describe-thing fields" "d['thingName'] == '$THING' and d['defaultClientId'] == '$THING' and d['thingTypeName'] == '$TYPE' and d['attributes'] == {'color': 'red', 'batch': '$BATCH'} and d['version'] == 1 and d['thingArn'].endswith(':thing/$THING')"

run iot describe-thing --thing-name "$THING" --query 'attributes.color' --output text
if [[ "$RC" -eq 0 && "$OUT" == "red" ]]; then pass "describe-thing --query attributes.color"; else fail "describe-thing --query attributes.color" "exit $RC, output '$OUT' $ERR"; fi

created_ok=1
for i in 2 3 4 5; do
  run iot create-thing --thing-name "$THING-$i" --attribute-payload "{\"attributes\": {\"batch\": \"$BATCH\"}}"
  [[ "$RC" -eq 0 ]] || created_ok=0
done
if [[ "$created_ok" -eq 1 ]]; then pass "create 4 more things"; else fail "create 4 more things" "$ERR"; fi

# The CLI's automatic pagination with --page-size 2 walks three pages of maxResults=2.
run iot list-things --attribute-name batch --attribute-value "$BATCH" --page-size 2
check_json "list-things --page-size 2 returns all 5" "sorted(t['thingName'] for t in d['things']) == sorted(['$THING'] + ['$THING-%d' % i for i in range(2, 6)])"

run iot list-things --attribute-name batch --attribute-value "$BATCH" --page-size 2 --query 'length(things)'
check_json "list-things --page-size 2 --query length(things) == 5" "d == 5"

# One server page: exactly maxResults items and a nextToken that continues the listing.
run iot list-things --attribute-name batch --attribute-value "$BATCH" --max-results 2 --no-paginate
check_json "list-things --max-results 2 --no-paginate is one page with nextToken" "len(d['things']) == 2 and d.get('nextToken')"
TOKEN="$(OUT="$OUT" python3 -c 'import json,os;print(json.loads(os.environ["OUT"] or "{}").get("nextToken",""))' 2>/dev/null || true)"
if [[ -n "$TOKEN" ]]; then
  run iot list-things --attribute-name batch --attribute-value "$BATCH" --max-results 2 --no-paginate --next-token "$TOKEN"
  check_json "list-things --next-token continues" "len(d['things']) == 2"
else
  fail "list-things --next-token continues" "no nextToken from the previous page"
fi

run iot list-things --thing-type-name "$TYPE"
check_json "list-things --thing-type-name" "[t['thingName'] for t in d['things']] == ['$THING']"

run iot add-thing-to-thing-group --thing-group-name "$GROUP" --thing-name "$THING"
check_ok "add-thing-to-thing-group"

run iot list-things-in-thing-group --thing-group-name "$GROUP"
check_json "list-things-in-thing-group" "d['things'] == ['$THING']"

run iot list-thing-groups-for-thing --thing-name "$THING"
check_json "list-thing-groups-for-thing" "[g['groupName'] for g in d['thingGroups']] == ['$GROUP']"

run iot update-thing --thing-name "$THING" --expected-version 1 \
  --attribute-payload '{"attributes": {"color": "blue", "size": "L"}, "merge": true}'
check_ok "update-thing --expected-version 1 (merge)"

run iot describe-thing --thing-name "$THING"
check_json "describe-thing after update" "d['attributes'] == {'color': 'blue', 'size': 'L', 'batch': '$BATCH'} and d['version'] == 2"

run iot update-thing --thing-name "$THING" --expected-version 1 --attribute-payload '{"attributes": {"color": "green"}, "merge": true}'
check_error "update-thing with a stale --expected-version" "VersionConflictException"

run iot delete-thing --thing-name "$THING"
check_ok "delete-thing"

run iot describe-thing --thing-name "$THING"
check_error "describe-thing of a deleted thing fails with ResourceNotFoundException" "ResourceNotFoundException"

run iot delete-thing --thing-name "$THING"
check_ok "delete-thing of a missing thing succeeds"

run iot describe-endpoint --endpoint-type iot:Data-ATS
check_json "describe-endpoint --endpoint-type iot:Data-ATS" "d == {'endpointAddress': '$PUBLIC_HOST'}"

run iot describe-endpoint --endpoint-type iot:Data-ATS --query endpointAddress --output text
if [[ "$RC" -eq 0 && "$OUT" == "$PUBLIC_HOST" ]]; then pass "describe-endpoint --query endpointAddress"; else fail "describe-endpoint --query endpointAddress" "exit $RC, output '$OUT' $ERR"; fi

run env AWS_SECRET_ACCESS_KEY="0000000000000000000000000000000000000000" aws --endpoint-url "$ENDPOINT" iot list-things
check_error "a wrong secret fails with InvalidSignatureException" "InvalidSignatureException"

run iot deprecate-thing-type --thing-type-name "$TYPE"
check_ok "deprecate-thing-type"

run iot describe-thing-type --thing-type-name "$TYPE" --query thingTypeMetadata.deprecated
check_json "describe-thing-type shows deprecated" "d is True"

# --------------------------------------------------------------------------- certificates, policies, RegisterThing

# json_get EXPR: evaluates a Python expression over the previous command's JSON output (d); prints "" on failure.
json_get() { OUT="$OUT" python3 -c 'import json,os,sys
try:
    print(eval(sys.argv[1], {"d": json.loads(os.environ["OUT"])}))
except Exception:
    print("")' "$1" 2>/dev/null || true; }

# The seed's template, verbatim, as the repository keeps it (Fleetkey.Client embeds this file).
SEED_TEMPLATE="$REPO_ROOT/src/Fleetkey.Client/register-thing-template-body.json"
CERT_POLICY="$RUN-policy"
SERIAL="$RUN-sn"
python3 - "$ENDPOINT/ca.pem" "$WORK/ca.pem" <<'PY' || true
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    open(sys.argv[2], "wb").write(r.read())
PY

run iot create-keys-and-certificate --set-as-active
check_json "create-keys-and-certificate --set-as-active" "len(d['certificateId']) == 64 and d['certificateArn'] == 'arn:aws:iot:$REGION:000000000000:cert/' + d['certificateId'] and d['certificateId'] == __import__('hashlib').sha256(__import__('ssl').PEM_cert_to_DER_cert(d['certificatePem'])).hexdigest() and 'PRIVATE KEY' in d['keyPair']['PrivateKey'] and 'PUBLIC KEY' in d['keyPair']['PublicKey']"
CERT_ID="$(json_get "d['certificateId']")"
CERT_ARN="$(json_get "d['certificateArn']")"
json_get "d['certificatePem']" >"$WORK/cert.pem"

run openssl verify -CAfile "$WORK/ca.pem" "$WORK/cert.pem"
if [[ "$RC" -eq 0 && "$OUT" == *": OK" ]]; then pass "the new certificate verifies against GET /ca.pem"; else fail "the new certificate verifies against GET /ca.pem" "exit $RC: $OUT $ERR"; fi

run iot describe-certificate --certificate-id "$CERT_ID"
check_json "describe-certificate" "d['certificateDescription']['certificateId'] == '$CERT_ID' and d['certificateDescription']['status'] == 'ACTIVE' and d['certificateDescription']['certificateArn'] == '$CERT_ARN' and d['certificateDescription']['ownedBy'] == '000000000000' and str(d['certificateDescription']['validity']['notAfter']).startswith(('2524607999', '2049-12-31T23:59:59'))"

run iot describe-certificate --certificate-id "$CERT_ID" --query certificateDescription.status --output text
if [[ "$RC" -eq 0 && "$OUT" == "ACTIVE" ]]; then pass "describe-certificate --query certificateDescription.status"; else fail "describe-certificate --query certificateDescription.status" "exit $RC, output '$OUT' $ERR"; fi

openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$RUN-csr" -keyout "$WORK/csr.key" -out "$WORK/dev.csr" >/dev/null 2>&1 || true
run iot create-certificate-from-csr --certificate-signing-request "file://$WORK/dev.csr" --set-as-active
check_json "create-certificate-from-csr --certificate-signing-request file://" "len(d['certificateId']) == 64 and 'BEGIN CERTIFICATE' in d['certificatePem'] and 'keyPair' not in d"
CSR_CERT_ID="$(json_get "d['certificateId']")"

cat >"$WORK/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:eu-west-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:eu-west-1:000000000000:topic/devices/${iot:Connection.Thing.ThingName}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:eu-west-1:000000000000:topicfilter/devices/${iot:Connection.Thing.ThingName}/*"}
  ]
}
JSON
run iot create-policy --policy-name "$CERT_POLICY" --policy-document "file://$WORK/policy.json"
check_json "create-policy --policy-document file://" "d['policyName'] == '$CERT_POLICY' and d['policyArn'] == 'arn:aws:iot:$REGION:000000000000:policy/$CERT_POLICY' and d['policyVersionId'] == '1' and json.loads(d['policyDocument'])['Statement'][0]['Action'] == 'iot:Connect'"

run iot create-policy --policy-name "$RUN-bad-policy" --policy-document '{"Version": "2012-10-17"}'
check_error "create-policy with no Statement fails with MalformedPolicyException" "MalformedPolicyException"

run iot attach-policy --policy-name "$CERT_POLICY" --target "$CERT_ARN"
check_ok "attach-policy --target <certificate ARN>"

run iot list-attached-policies --target "$CERT_ARN"
check_json "list-attached-policies --target <certificate ARN>" "[p['policyName'] for p in d['policies']] == ['$CERT_POLICY']"

run iot list-targets-for-policy --policy-name "$CERT_POLICY"
check_json "list-targets-for-policy" "d['targets'] == ['$CERT_ARN']"

run iot delete-certificate --certificate-id "$CERT_ID"
check_error "delete-certificate of an ACTIVE certificate fails with CertificateStateException" "CertificateStateException"

run iot update-certificate --certificate-id "$CERT_ID" --new-status INACTIVE
check_ok "update-certificate --new-status INACTIVE"

run iot delete-certificate --certificate-id "$CERT_ID"
check_error "delete-certificate with a policy attached fails with DeleteConflictException" "DeleteConflictException"

run iot delete-certificate --certificate-id "$CERT_ID" --force-delete
check_ok "delete-certificate --force-delete (policy still attached)"

run iot describe-certificate --certificate-id "$CERT_ID"
check_error "describe-certificate of a deleted certificate fails with ResourceNotFoundException" "ResourceNotFoundException"

run iot list-targets-for-policy --policy-name "$CERT_POLICY"
check_json "the force-deleted certificate is no longer a policy target" "d['targets'] == []"

run iot delete-policy --policy-name "$CERT_POLICY"
check_ok "delete-policy"

# The seed's template, from the file, as register-thing.js uses it (its prerequisites are made
# best-effort: on a reused server they may exist already).
iot create-thing-type --thing-type-name NewDevice >/dev/null 2>&1 || true
iot create-thing-group --thing-group-name NewDevices >/dev/null 2>&1 || true
iot create-policy --policy-name DefaultNewDevicePolicy --policy-document "file://$WORK/policy.json" >/dev/null 2>&1 || true

run iot create-keys-and-certificate --set-as-active
SEED_CERT_ID="$(json_get "d['certificateId']")"
SEED_CERT_ARN="$(json_get "d['certificateArn']")"
run iot register-thing --template-body "file://$SEED_TEMPLATE" \
  --parameters "{\"ThingName\": \"$SERIAL\", \"SerialNumber\": \"$SERIAL\", \"CertificateId\": \"$SEED_CERT_ID\"}"
check_json "register-thing --template-body file://register-thing-template-body.json" "d['resourceArns'] == {'thing': 'arn:aws:iot:$REGION:000000000000:thing/$SERIAL', 'certificate': '$SEED_CERT_ARN', 'policy': 'arn:aws:iot:$REGION:000000000000:policy/DefaultNewDevicePolicy'} and 'BEGIN CERTIFICATE' in d['certificatePem']"

run iot describe-thing --thing-name "$SERIAL"
check_json "describe-thing of the registered thing" "d['thingTypeName'] == 'NewDevice' and d['attributes'] == {'serialNumber': '$SERIAL'}"

run iot list-thing-principals --thing-name "$SERIAL"
check_json "list-thing-principals of the registered thing" "d['principals'] == ['$SEED_CERT_ARN']"

run iot list-attached-policies --target "$SEED_CERT_ARN"
check_json "the registered certificate has DefaultNewDevicePolicy" "[p['policyName'] for p in d['policies']] == ['DefaultNewDevicePolicy']"

run iot delete-thing --thing-name "$SERIAL"
check_error "delete-thing with a principal attached fails with InvalidRequestException" "InvalidRequestException"

# Deprovisioning exactly as the seed's unregisterThing does it.
run iot detach-thing-principal --thing-name "$SERIAL" --principal "$SEED_CERT_ARN"
check_ok "detach-thing-principal"
run iot update-certificate --certificate-id "$SEED_CERT_ID" --new-status INACTIVE
check_ok "update-certificate --new-status INACTIVE (registered certificate)"
run iot delete-certificate --certificate-id "$SEED_CERT_ID" --force-delete
check_ok "delete-certificate --force-delete (registered certificate)"
run iot delete-thing --thing-name "$SERIAL"
check_ok "delete-thing of the deprovisioned thing"
run iot list-thing-principals --thing-name "$SERIAL"
check_error "list-thing-principals of the deleted thing fails with ResourceNotFoundException" "ResourceNotFoundException"

# The seed's template stored as a provisioning template (CreateProvisioningTemplate and its family).
TEMPLATE="$RUN-template"
run iot create-provisioning-template --template-name "$TEMPLATE" --template-body "file://$SEED_TEMPLATE" \
  --provisioning-role-arn "arn:aws:iam::000000000000:role/FleetkeyProvisioning" --enabled --tags Key=owner,Value=factory
check_json "create-provisioning-template --template-body file://register-thing-template-body.json" "d['templateName'] == '$TEMPLATE' and d['templateArn'] == 'arn:aws:iot:$REGION:000000000000:provisioningtemplate/$TEMPLATE' and d['defaultVersionId'] == 1"

run iot describe-provisioning-template --template-name "$TEMPLATE"
check_json "describe-provisioning-template returns the seed's body" "d['templateBody'] == open('$SEED_TEMPLATE').read() and d['enabled'] is True and d['type'] == 'FLEET_PROVISIONING' and d['defaultVersionId'] == 1"

run iot create-provisioning-template-version --template-name "$TEMPLATE" --template-body "file://$SEED_TEMPLATE" --set-as-default
check_json "create-provisioning-template-version --set-as-default" "d['versionId'] == 2 and d['isDefaultVersion'] is True"

run iot list-provisioning-template-versions --template-name "$TEMPLATE"
check_json "list-provisioning-template-versions" "[(v['versionId'], v['isDefaultVersion']) for v in d['versions']] == [(1, False), (2, True)]"

run iot delete-provisioning-template-version --template-name "$TEMPLATE" --version-id 2
check_error "delete-provisioning-template-version of the default version fails with DeleteConflictException" "DeleteConflictException"

run iot list-provisioning-templates --page-size 1
check_json "list-provisioning-templates (the CLI walks every page)" "'$TEMPLATE' in [t['templateName'] for t in d['templates']]"

run iot create-provisioning-template --template-name "$RUN-bad" --template-body '{"Resources": {"x": {"Type": "AWS::S3::Bucket"}}}' \
  --provisioning-role-arn "arn:aws:iam::000000000000:role/FleetkeyProvisioning"
check_error "create-provisioning-template with an invalid body fails with InvalidRequestException" "InvalidRequestException"

run iot delete-provisioning-template --template-name "$TEMPLATE"
check_ok "delete-provisioning-template"
run iot describe-provisioning-template --template-name "$TEMPLATE"
check_error "describe-provisioning-template of a deleted template fails with ResourceNotFoundException" "ResourceNotFoundException"

# Best-effort cleanup of this section (not counted).
if [[ -n "$CSR_CERT_ID" ]]; then
  iot update-certificate --certificate-id "$CSR_CERT_ID" --new-status INACTIVE >/dev/null 2>&1 || true
  iot delete-certificate --certificate-id "$CSR_CERT_ID" >/dev/null 2>&1 || true
fi

# Best-effort cleanup (not counted) so a reused server is left tidy.
for i in 2 3 4 5; do iot delete-thing --thing-name "$THING-$i" >/dev/null 2>&1 || true; done
iot delete-thing-group --thing-group-name "$GROUP" >/dev/null 2>&1 || true
iot delete-thing-type --thing-type-name "$TYPE" >/dev/null 2>&1 || true

if [[ -n "$SERVER_PID" ]]; then
  stop_server "$SERVER_PID"
  SERVER_PID=""
  if [[ "$STOP_RC" == "0" ]]; then pass "server exits 0 within 15 s of SIGTERM"; else fail "server exits 0 within 15 s of SIGTERM" "exit: $STOP_RC"; fi
fi

if [[ "$FAILED" -ne 0 ]]; then
  server_tail
  KEEP_WORK=1
  log "kept $WORK"
fi
log "cli: $PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
