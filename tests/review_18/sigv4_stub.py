import http.server, json, re, sys
log = open(sys.argv[1], "a")
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        auth = self.headers.get("Authorization", "")
        m = re.search(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/", auth)
        key, region, svc = m.groups() if m else ("?", "?", "?")
        log.write(f"{svc} {region} {key} {self.command} {self.path}\n"); log.flush()
        if svc == "sts":
            out = ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
                   '<Arn>arn:aws:iam::111122223333:user/alice</Arn><UserId>AIDA</UserId><Account>111122223333</Account>'
                   '</GetCallerIdentityResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></GetCallerIdentityResponse>').encode()
            ctype = "text/xml"
        else:
            name = self.path.rstrip("/").split("/")[-1]
            tagged = region == "eu-west-1" and key == "AKIASANDBOX00000000"
            out = json.dumps({"cluster": {"name": name, "status": "ACTIVE",
                "arn": f"arn:aws:eks:{region}:{key}:cluster/{name}",
                "endpoint": f"https://127.0.0.1:9", "version": "1.31",
                "certificateAuthority": {"data": "LS0t"}, "roleArn": "arn:aws:iam::1:role/x",
                "accessConfig": {"authenticationMode": "CONFIG_MAP"},
                "tags": {"eks-breakglass/acceptance": "disposable" if tagged else "prod"}}}).encode()
            ctype = "application/json"
        self.send_response(200); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_any
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
