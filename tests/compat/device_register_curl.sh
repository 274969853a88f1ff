#!/usr/bin/env bash
# A device written with curl and openssl only (jq reads the JSON answer): signs a SharedAccessSignature for its serial number
# with its device secret and registers at the device endpoint, in key mode or (with a key file) CSR mode.
#
#   device_register_curl.sh DEVICE_URL SERIAL SECRET_BASE64 OUTDIR [KEY_PEM]
#
# Writes OUTDIR/response.json, OUTDIR/certificate.pem and, in key mode, OUTDIR/private.key; prints the
# HTTP status. The signature is base64(HMAC-SHA256(decoded secret, SERIAL + "\n" + EXPIRY)).
set -euo pipefail
url=$1 serial=$2 secret=$3 out=$4 key=${5:-}
mkdir -p "$out"

expiry=$(( $(date +%s) + 600 ))
hexkey=$(printf '%s' "$secret" | base64 -d | od -An -tx1 -v | tr -d ' \n')
sig=$(printf '%s\n%s' "$serial" "$expiry" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)
# Percent-encode the base64 ('+', '/', '='); the serial's characters ([A-Za-z0-9:_-]) need none.
sig=$(printf '%s' "$sig" | sed -e 's/+/%2B/g' -e 's/\//%2F/g' -e 's/=/%3D/g')

if [[ -n "$key" ]]; then
  csr=$(openssl req -new -key "$key" -subj "/CN=$serial" | awk '{printf "%s\\n", $0}')
  body="{\"serialNumber\":\"$serial\",\"csr\":\"$csr\"}"
else
  body="{\"serialNumber\":\"$serial\"}"
fi

status=$(curl -sS -o "$out/response.json" -w '%{http_code}' -X POST "$url/device/register" \
  -H 'Content-Type: application/json' \
  -H "Authorization: SharedAccessSignature sr=$serial&se=$expiry&sig=$sig" \
  --data-binary "$body")
echo "$status"
[[ "$status" == 200 ]] || exit 1

jq -r .certificatePem "$out/response.json" > "$out/certificate.pem"
if jq -e 'has("privateKey")' "$out/response.json" > /dev/null; then
  jq -r .privateKey "$out/response.json" > "$out/private.key"
fi
