# tests/tls-lib.sh: certificates for the TLS black-box tests, made with
# the openssl CLI into $T/pki.  Sourced after tests/lib.sh.
#
#   ca.crt            the server CA: server, www, api, backend certificates
#   server.crt/.key   CN=localhost, SAN localhost, 127.0.0.1
#   www.crt/.key      SAN www.example.test
#   api.crt/.key      SAN api.example.test, *.api.example.test
#   server2.crt/.key  a second localhost certificate (for rotation)
#   backend.crt/.key  SAN localhost, 127.0.0.1 (nginx upstream)
#   otherca.crt       a CA nobody trusts; wrong.crt/.key is signed by it
#   clientca.crt      the client CA; client.crt/.key (CN=client-one),
#                     client2.crt/.key, expired.crt/.key, revoked.crt/.key
#   clientca.crl      revokes revoked.crt
#   mgwclient.crt/.key  signed by clientca: mgwd's certificate to a backend

command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"
PKI=$T/pki

# _ca NAME CN: a self-signed CA.
_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -days 30 \
	    -subj "/O=mgw test/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
	    fail "openssl: cannot make CA $1"
}

# _leaf NAME CA SUBJ EXT [DAYS-OPTS...]: a key and a certificate signed by CA.
_leaf() {
	local name=$1 ca=$2 subj=$3 ext=$4
	shift 4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$PKI/$name.key" -out "$PKI/$name.csr" \
	    -subj "$subj" 2>/dev/null || fail "openssl: cannot make $name"
	printf '%s\n' "$ext" > "$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" \
	    -CAkey "$PKI/$ca.key" -CAcreateserial -out "$PKI/$name.crt" \
	    -extfile "$PKI/$name.ext" "$@" 2>/dev/null ||
	    fail "openssl: cannot sign $name"
}

make_pki() {
	local srv cli
	mkdir -p "$PKI"
	srv="basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth"
	cli="basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth"
	_ca ca "mgw test CA"
	_ca otherca "untrusted CA"
	_ca clientca "mgw client CA"
	_leaf server ca "/CN=localhost" "$srv
subjectAltName=DNS:localhost,IP:127.0.0.1" -days 30
	_leaf server2 ca "/CN=localhost" "$srv
subjectAltName=DNS:localhost,IP:127.0.0.1" -days 30
	_leaf www ca "/CN=www.example.test" "$srv
subjectAltName=DNS:www.example.test" -days 30
	_leaf api ca "/CN=api.example.test" "$srv
subjectAltName=DNS:api.example.test,DNS:*.api.example.test" -days 30
	_leaf backend ca "/CN=localhost" "$srv
subjectAltName=DNS:localhost,IP:127.0.0.1" -days 30
	_leaf wrong otherca "/CN=localhost" "$srv
subjectAltName=DNS:localhost,IP:127.0.0.1" -days 30
	_leaf client clientca "/O=Example/CN=client-one" "$cli" -days 30
	_leaf client2 clientca "/O=Example/CN=client-two" "$cli" -days 30
	_leaf revoked clientca "/O=Example/CN=client-revoked" "$cli" -days 30
	_leaf wrongclient otherca "/O=Example/CN=client-one" "$cli" -days 30
	_leaf mgwclient clientca "/O=Example/CN=mgw-gateway" "$cli" -days 30
	# A CRL of the client CA that revokes revoked.crt.
	mkdir -p "$PKI/crl"
	: > "$PKI/crl/index.txt"
	echo 01 > "$PKI/crl/crlnumber"
	echo 1000 > "$PKI/crl/serial"
	cat > "$PKI/crl/ca.cnf" <<EOC
[ ca ]
default_ca = cd
[ cd ]
database = $PKI/crl/index.txt
crlnumber = $PKI/crl/crlnumber
serial = $PKI/crl/serial
certificate = $PKI/clientca.crt
private_key = $PKI/clientca.key
default_md = sha256
default_crl_days = 30
new_certs_dir = $PKI/crl
policy = pol
copy_extensions = none
[ pol ]
commonName = supplied
organizationName = optional
[ cli ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOC
	# Expired: valid for one day, ending yesterday.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$PKI/expired.key" -out "$PKI/expired.csr" \
	    -subj "/O=Example/CN=client-expired" 2>/dev/null
	openssl ca -batch -config "$PKI/crl/ca.cnf" -extensions cli \
	    -in "$PKI/expired.csr" -out "$PKI/expired.crt" -notext \
	    -startdate "$(date -u -d '3 days ago' +%Y%m%d%H%M%SZ)" \
	    -enddate "$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)" \
	    >/dev/null 2>&1 || fail "openssl ca: cannot make an expired certificate"
	openssl ca -config "$PKI/crl/ca.cnf" -revoke "$PKI/revoked.crt" \
	    >/dev/null 2>&1 || fail "openssl ca: cannot revoke"
	openssl ca -config "$PKI/crl/ca.cnf" -gencrl -out "$PKI/clientca.crl" \
	    >/dev/null 2>&1 || fail "openssl ca: cannot make the CRL"
}

# fingerprint CERT: "sha256:<lowercase hex>" as mgw.conf takes it.
fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' | sed 's/^/sha256:/'
}

# serial_of CERT: the certificate's serial number.
serial_of() {
	openssl x509 -in "$1" -noout -serial | sed 's/serial=//'
}

# served_serial PORT [SNI]: serial of the certificate the server presents.
served_serial() {
	local sni=${2:+-servername $2}
	# shellcheck disable=SC2086
	openssl s_client -connect "127.0.0.1:$1" $sni </dev/null 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null | sed 's/serial=//'
}

# https_ready PORT: /health answers over TLS.
https_ready() {
	curl -fsS -o /dev/null --max-time 2 --cacert "$PKI/ca.crt" \
	    "https://localhost:$1/health"
}

TLS_PORT=$(free_port)
TLS2_PORT=$(free_port)

# tls_write_conf [FILE] < body: like write_conf, with the listeners of
# $TLS_LISTENERS (libconfig list items, comma-terminated) before the
# plain HTTP and admin ones mgw_ready needs.
tls_write_conf() {
	local f=${1:-$T/mgw.conf}
	{
		gateway_block | sed -n '/^listeners = (/q;p'
		echo "listeners = ("
		printf '%s\n' "${TLS_LISTENERS:-}"
		echo "	{ name = \"http\"; listen = \"127.0.0.1:$PORT\"; },"
		echo "	{ name = \"admin\"; listen = \"127.0.0.1:$ADMIN_PORT\"; admin = true; }"
		echo ");"
		cat
	} > "$f"
}

# stat_of KEY: a counter from mgwctl stats.
stat_of() {
	ctl stats | awk -v k="$1:" '$1 == k { print $2 }'
}
