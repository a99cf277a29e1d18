#!/usr/bin/env bash
# Local demo: builds the sample app, starts three instances on this machine that elect a leader through a lease
# file, shows who leads the default election and which instance leads each named one (billing, cleanup, index) as
# they move, and stops them all on Ctrl-C. Needs only a JDK 17+ (Maven comes through ./mvnw).
#
#   ./demo.sh                          build, then run on ports 8081-8083
#   DEMO_PORTS="9081 9082 9083" ./demo.sh
#   DEMO_SKIP_BUILD=1 ./demo.sh        reuse the jar from the last build
#
# Written for bash 3.2+ (macOS too); uses curl when present, else bash's /dev/tcp.
set -euo pipefail
cd "$(dirname "$0")"

PORTS=(${DEMO_PORTS:-8081 8082 8083})
LEASE_DURATION=8s  # shorter than the default 15s, so a crash fail-over is quick to watch
RENEW_DEADLINE=5s
RETRY_PERIOD=1s
PRESENCE_INTERVAL=3s  # a crashed instance stops counting for the spread after three intervals (default 30s)
DEMO_DIR=sample-app/target/demo

PIDS=()
OFFSETS=()
GONE=()
# The elections as the instances list them, and who leads each: bash 3.2 has no associative arrays, so parallel
# indexed arrays, ELECTION_COUNT long.
ELECTION_COUNT=0
ELECTION_NAMES=()   # "default" or the election's name
ELECTION_OWNERS=()  # port of the live instance that says it leads the election, or ""
ELECTION_TOKENS=()  # that instance's fencing token
ELECTION_HOLDERS=() # the holder some live instance sees in the lease (a crashed leader's until it expires)
PRINTED_OWNERS=()   # ELECTION_OWNERS when last printed
last_elections=""

say() { printf '%s\n' "$*"; }
now() { date +%H:%M:%S; }

# GET http://127.0.0.1:$1$2 and print the body; fails if nothing answers within ~2 s.
http_get() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 2 "http://127.0.0.1:$1$2" 2>/dev/null
        return
    fi
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$2" >&3
        in_body=false
        status=""
        body=""
        while IFS= read -r -t 2 line <&3 || [ -n "$line" ]; do
            line=${line%$'\r'}
            if [ -z "$status" ]; then status=$line; continue; fi
            if $in_body; then body="$body$line"$'\n'; elif [ -z "$line" ]; then in_body=true; fi
        done
        case "$status" in *" 200"*) printf '%s' "$body" ;; *) exit 1 ;; esac
    ) 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { kill -0 "$1" 2>/dev/null; }

stop_all() {
    trap - EXIT
    trap '' INT TERM HUP PIPE # a second Ctrl-C, or a closed terminal, must not leave instances behind
    set +e
    local i pid waited=0
    # Signal first, talk after: if stdout is gone, the instances still get stopped.
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    say ""
    say "Stopping the instances (SIGTERM: the leader releases the lease)..."
    for i in ${PIDS[@]+"${!PIDS[@]}"}; do
        while alive "${PIDS[$i]}" && [ "$waited" -lt 40 ]; do
            sleep 0.5
            waited=$((waited + 1))
        done
        if alive "${PIDS[$i]}"; then
            kill -KILL "${PIDS[$i]}" 2>/dev/null
        fi
    done
    say "All stopped. Logs: $DEMO_DIR/instance-<port>.log"
}

# New lines of interest in each instance's log since the last call, one compact line each.
print_new_log_lines() {
    local i port out
    for i in "${!PORTS[@]}"; do
        port=${PORTS[$i]}
        out=$(awk -v start="${OFFSETS[$i]}" -v port="$port" '
            NR > start && /Joining leader election|Granted leadership|revoked \(|released local lease|was deleted; nobody creates|Job run #[0-9]+ finished|Exception|ERROR/ {
                if ($0 ~ /Job run #/) { # the first run of a term, then every tenth
                    n = $0; sub(/.*Job run #/, "", n); sub(/ .*/, "", n)
                    if (n != 1 && n % 10 != 0) next
                }
                at = index($0, " : ")
                text = (at > 0 ? substr($0, at + 3) : $0)
                if (text ~ /^Joining leader election/) { # one line per election: the first says it for all
                    if (joined++) next
                    text = "Joined the elections"
                }
                sub(/ local lease file [^ ]*\//, " lease ", text) # "released lease leaderpod-sample-billing.lease"
                sub(/^local lease file .* was deleted;/, "The lease was deleted;", text)
                printf "    %s  %s  %s\n", port, substr($1, 12, 12), text
            }
            END { printf "@@%d", NR }' "$DEMO_DIR/instance-$port.log" 2>/dev/null || printf '@@%s' "${OFFSETS[$i]}")
        OFFSETS[$i]=${out##*@@}
        out=${out%@@*}
        out=${out%$'\n'}
        [ -n "$out" ] && printf '%s\n' "$out"
    done
    return 0
}

# Sets FOUND to the index of election $1, adding it if new.
find_election() {
    FOUND=0
    while [ "$FOUND" -lt "$ELECTION_COUNT" ]; do
        [ "${ELECTION_NAMES[$FOUND]}" = "$1" ] && return 0
        FOUND=$((FOUND + 1))
    done
    ELECTION_NAMES[$FOUND]=$1
    PRINTED_OWNERS[$FOUND]=""
    ELECTION_COUNT=$((ELECTION_COUNT + 1))
}

# Asks every live instance which elections it leads (GET /api/elections: one line per election, then the spread),
# and prints who leads which election when that changed, with what moved since the last print.
print_elections_if_moved() {
    local i j port lines kind name lease holder token role spreading="" now_elections="" shares="" count was
    local answered=" "
    j=0
    while [ "$j" -lt "$ELECTION_COUNT" ]; do
        ELECTION_OWNERS[$j]=""
        ELECTION_TOKENS[$j]=""
        ELECTION_HOLDERS[$j]=""
        j=$((j + 1))
    done
    for i in "${!PORTS[@]}"; do
        [ -z "${GONE[$i]}" ] || continue
        lines=$(http_get "${PORTS[$i]}" /api/elections || true)
        [ -n "$lines" ] || continue
        answered="$answered${PORTS[$i]} "
        while read -r kind name lease holder token role; do
            case "$kind" in
            election)
                [ "$name" = - ] && name=default
                find_election "$name"
                if [ "$role" = leader ]; then
                    ELECTION_OWNERS[$FOUND]=${PORTS[$i]}
                    ELECTION_TOKENS[$FOUND]=$token
                elif [ "$holder" != - ] && [ -z "${ELECTION_HOLDERS[$FOUND]:-}" ]; then
                    ELECTION_HOLDERS[$FOUND]=$holder
                fi
                ;;
            spreading)
                [ -n "$spreading" ] || spreading=$name
                ;;
            esac
        done <<<"$lines"
    done
    [ "$ELECTION_COUNT" -gt 0 ] || return 0
    j=0
    while [ "$j" -lt "$ELECTION_COUNT" ]; do
        now_elections="$now_elections ${ELECTION_NAMES[$j]}=${ELECTION_OWNERS[$j]:-}"
        j=$((j + 1))
    done
    [ "$now_elections" != "$last_elections" ] || return 0
    last_elections=$now_elections

    case "$spreading" in
    on) say "[$(now)] ELECTIONS, spread over the live instances (each leads its fair share):" ;;
    *) say "[$(now)] ELECTIONS (not spread: the lease store keeps no presence, or leader.spread.enabled=false):" ;;
    esac
    j=0
    while [ "$j" -lt "$ELECTION_COUNT" ]; do
        port=${ELECTION_OWNERS[$j]:-}
        was=${PRINTED_OWNERS[$j]:-}
        if [ -n "$port" ]; then
            printf '    %-9s port %s, fencing token %s' "${ELECTION_NAMES[$j]}" "$port" "${ELECTION_TOKENS[$j]}"
            # The last instance seen leading it, even if nobody led it in between (a crash is waited out).
            [ -z "$was" ] || [ "$was" = "$port" ] || printf '   <- moved from %s' "$was"
            PRINTED_OWNERS[$j]=$port
        elif [ -n "${ELECTION_HOLDERS[$j]:-}" ]; then
            printf '    %-9s nobody leads (its lease still names %s)' "${ELECTION_NAMES[$j]}" "${ELECTION_HOLDERS[$j]}"
        else
            printf '    %-9s nobody leads' "${ELECTION_NAMES[$j]}"
        fi
        printf '\n'
        j=$((j + 1))
    done
    for i in "${!PORTS[@]}"; do
        case "$answered" in *" ${PORTS[$i]} "*) ;; *) continue ;; esac
        count=0
        j=0
        while [ "$j" -lt "$ELECTION_COUNT" ]; do
            [ "${ELECTION_OWNERS[$j]:-}" = "${PORTS[$i]}" ] && count=$((count + 1))
            j=$((j + 1))
        done
        shares="$shares, ${PORTS[$i]} leads $count"
    done
    [ -z "$shares" ] || say "    shares: ${shares#, }"
    return 0
}

command -v java >/dev/null 2>&1 || { say "demo.sh needs a JDK 17 or newer on the PATH (java)."; exit 1; }
for port in "${PORTS[@]}"; do
    if port_in_use "$port"; then
        say "Port $port is in use. Stop what listens there, or choose others: DEMO_PORTS=\"9081 9082 9083\" ./demo.sh"
        exit 1
    fi
done

if [ -z "${DEMO_SKIP_BUILD:-}" ]; then
    say "Building the sample app with ./mvnw (the first build downloads Maven and the dependencies: a few minutes)..."
    ./mvnw -B -q -ntp -pl sample-app -am package -DskipTests
fi
JAR=$(ls sample-app/target/sample-app-*.jar 2>/dev/null | grep -v -e '-sources' -e '\.original' | head -n 1 || true)
[ -n "$JAR" ] || { say "No sample-app jar in sample-app/target: run without DEMO_SKIP_BUILD."; exit 1; }

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR/leases"
trap stop_all EXIT
trap 'exit 130' INT TERM HUP

say "Starting ${#PORTS[@]} instances of the sample app, electing through $DEMO_DIR/leases (about 20 s on 2 cores)..."
say "There is no lease yet (the lease directory is new): the first leader appears about $LEASE_DURATION after the first"
say "instance joins, because nobody creates a missing lease before it has been missing for one lease duration."
for i in "${!PORTS[@]}"; do
    port=${PORTS[$i]}
    # HOSTNAME feeds the default identity: instance-<port>-<random suffix>.
    HOSTNAME="instance-$port" java -XX:TieredStopAtLevel=1 -jar "$JAR" \
        --server.port="$port" \
        --leader.store=local \
        --leader.local.directory="$DEMO_DIR/leases" \
        --leader.lease-duration="$LEASE_DURATION" \
        --leader.renew-deadline="$RENEW_DEADLINE" \
        --leader.retry-period="$RETRY_PERIOD" \
        --leader.spread.presence-interval="$PRESENCE_INTERVAL" \
        >"$DEMO_DIR/instance-$port.log" 2>&1 &
    PIDS[$i]=$!
    disown "$!" 2>/dev/null || true # no "Killed" job report from bash when you kill -9 it
    OFFSETS[$i]=0
    GONE[$i]=""
done

# Wait until every instance answers.
deadline=$(($(date +%s) + 180))
for i in "${!PORTS[@]}"; do
    until http_get "${PORTS[$i]}" /api/summary >/dev/null; do
        if ! alive "${PIDS[$i]}"; then
            say "Instance on port ${PORTS[$i]} exited during start-up; its log:"
            tail -n 30 "$DEMO_DIR/instance-${PORTS[$i]}.log"
            exit 1
        fi
        if [ "$(date +%s)" -gt "$deadline" ]; then
            say "Instance on port ${PORTS[$i]} did not answer within 180 s; see $DEMO_DIR/instance-${PORTS[$i]}.log"
            exit 1
        fi
        sleep 0.5
    done
done

say ""
printf '  %-6s %-8s %-9s %-28s %s\n' PORT PID ROLE IDENTITY "STATUS PAGE"
for i in "${!PORTS[@]}"; do
    read -r role identity holder token pid port state <<<"$(http_get "${PORTS[$i]}" /api/summary || echo "? ? ? ? ? ? ?")"
    printf '  %-6s %-8s %-9s %-28s %s\n' "${PORTS[$i]}" "${PIDS[$i]}" "$role" "$identity" "http://localhost:${PORTS[$i]}/"
done
say ""
say "Besides the default election (the LEADER line), each instance takes part in three named elections, billing,"
say "cleanup and index, each with a job of its own: the ELECTIONS lines show which instance leads which."
say "Open a status page. In another terminal, stop the leader, or any instance (the pids are above):"
say "  kill <pid>     graceful (SIGTERM): the instance releases the leases it holds; the others take over within"
say "                 about one retry period ($RETRY_PERIOD: the local store has no watch, followers poll); with"
say "                 spreading on, it names the least loaded instance as each election's successor"
say "  kill -9 <pid>  crash: nothing is released; the others wait out the leases ($LEASE_DURATION after they last"
say "                 saw them renewed) before they take over, each election with a higher fencing token"
say "Ctrl-C stops everything."
say ""

last_leader="(none yet)"
while true; do
    leader_line=""
    states=" "
    for i in "${!PORTS[@]}"; do
        if ! alive "${PIDS[$i]}"; then
            if [ -z "${GONE[$i]}" ]; then
                GONE[$i]=yes
                say "[$(now)] instance on port ${PORTS[$i]} (pid ${PIDS[$i]}) has exited"
            fi
            continue
        fi
        summary=$(http_get "${PORTS[$i]}" /api/summary || true)
        [ -n "$summary" ] || continue
        read -r role identity holder token pid port state <<<"$summary"
        states="$states$state "
        if [ "$role" = leader ]; then
            leader_line="$identity on port ${PORTS[$i]}, pid ${PIDS[$i]}, fencing token $token: http://localhost:${PORTS[$i]}/"
        fi
    done
    print_new_log_lines
    print_elections_if_moved
    if [ "$leader_line" != "$last_leader" ]; then
        if [ -n "$leader_line" ]; then
            say "[$(now)] LEADER: $leader_line"
        else
            case "$states" in
            *" absent "* | *" holding "*)
                say "[$(now)] nobody leads yet: the lease was missing (the demo starts with an empty lease directory, or it"
                say "           was deleted); the instance that created it holds it for one lease duration ($LEASE_DURATION)"
                say "           before it leads: a deleted lease's holder may still be leading, and the lease file cannot"
                say "           tell \"deleted\" from \"never created\". Restarting instances costs no such wait: the lease stays."
                ;;
            *)
                say "[$(now)] nobody leads right now: waiting for the lease to be released or to expire"
                ;;
            esac
        fi
        last_leader=$leader_line
    fi
    all_gone=yes
    for i in "${!PORTS[@]}"; do [ -z "${GONE[$i]}" ] && all_gone=""; done
    if [ -n "$all_gone" ]; then
        say "Every instance has exited."
        exit 0
    fi
    sleep 1
done
