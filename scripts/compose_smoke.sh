#!/bin/sh
# Smoke test of the container recipe: build the image, start compose.yaml with the sandbox CRMs in place of
# real ones (compose.smoke.yaml), create a contact in the HubSpot sandbox, and wait until the worker has
# made its Salesforce Lead. Exits 0 on success. Needs a Docker engine (and network for the base images).
set -eu
cd "$(dirname "$0")/.."
PROJECT="nurture-smoke-$$"
export POSTGRES_PASSWORD="smoke-$$"
compose() { docker compose -p "$PROJECT" -f compose.yaml -f compose.smoke.yaml "$@"; }
cleanup() { compose down -v --remove-orphans >/dev/null 2>&1 || true; rm -f .env.smoke; }
trap cleanup EXIT INT TERM
: > .env.smoke
compose build
compose up -d --wait sandbox
# The sandbox prints the variables that point app.yaml at it; other containers reach it as "sandbox".
compose logs --no-log-prefix sandbox | grep -E '^[A-Z_]+=' \
  | sed -e 's#//0\.0\.0\.0:#//sandbox:#g' -e 's#//127\.0\.0\.1:#//sandbox:#g' > .env.smoke
TOKEN=$(sed -n 's/^HUBSPOT_ACCESS_TOKEN=//p' .env.smoke)
compose up -d --wait postgres serve worker
HS="http://127.0.0.1:${SMOKE_HUBSPOT_PORT:-18101}"
ID=$(curl -fsS -X POST "$HS/crm/v3/objects/contacts" -H "Authorization: Bearer $TOKEN" \
      -H "Content-Type: application/json" \
      -d '{"properties":{"email":"smoke@example.com","firstname":"Smoke","lastname":"Test","company":"Compose"}}' \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "created HubSpot contact $ID; waiting for the worker to link it"
for _ in $(seq 1 60); do
  if compose exec -T postgres psql -U nurture -d nurture -tAc \
       "SELECT salesforce_id FROM contacts WHERE hubspot_id = '$ID' AND salesforce_id IS NOT NULL" | grep -q .; then
    echo "synced: HubSpot $ID has its Salesforce record"; exit 0
  fi
  sleep 2
done
echo "not synced after 120 s"; compose logs worker serve | tail -50; exit 1
