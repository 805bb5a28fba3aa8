// Command awsauth-oracle prints what aws-iam-authenticator would hold in memory after reading
// an aws-auth ConfigMap, computed with the same Go libraries the authenticator uses
// (gopkg.in/yaml.v2, sigs.k8s.io/yaml, encoding/json). It is the ground truth that the product's
// parser (src/awsauth) and eks-sim's loader (sim/src/awsauth.rs) are tested against.
//
// Why a Go program at all: the authenticator's reading of aws-auth is defined by libyaml's
// scanner (as ported into go-yaml v2), by sigs.k8s.io/yaml's YAML-to-JSON conversion and by
// encoding/json's lenient struct decoding. Our Rust readers re-implement those; only the real
// libraries can tell where a re-implementation and the authenticator part ways.
//
// Each step follows aws-iam-authenticator's pkg/mapper/configmap (ParseMap, isSkippable,
// saveMap) and pkg/config (RoleMapping/UserMapping/SSOARNMatcher, Validate, Key). The code is
// written from reading that source, not copied.
//
// Usage:
//
//	awsauth-oracle < aws-auth.yaml          one manifest on stdin, one JSON verdict on stdout
//	awsauth-oracle -jsonl < cases.jsonl     one request per line: {"manifest": "..."} or
//	                                        {"data": {"mapRoles": "..."}}; one verdict per line
//
// Built in GOPATH mode from Debian's golang-gopkg-yaml.v2-dev and golang-k8s-sigs-yaml-dev
// (scripts/test.sh); see docs/ground-truth.md for versions and what is not modelled.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode"

	yaml "gopkg.in/yaml.v2"
	sigsyaml "sigs.k8s.io/yaml"
)

// The authenticator's mapping types (pkg/config/types.go): same field types and JSON tags,
// because encoding/json's behaviour (case-insensitive names, partial fill on type errors,
// pointer allocation for sso) depends on exactly those.
type ssoMatcher struct {
	PermissionSetName string `json:"permissionSetName"`
	AccountID         string `json:"accountID"`
	Partition         string `json:"partition,omitempty"`
}

type roleMapping struct {
	RoleARN  string      `json:"rolearn,omitempty"`
	SSO      *ssoMatcher `json:"sso,omitempty"`
	Username string      `json:"username"`
	Groups   []string    `json:"groups"`
	UserID   string      `json:"userid,omitempty"`
}

type userMapping struct {
	UserARN  string   `json:"userarn"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
	UserID   string   `json:"userid,omitempty"`
}

// pkg/endpoints PARTITIONS.
var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
var permissionSetRe = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)

// ssoArnLike mirrors RoleMapping.SSOArnLike, including its quirk: the partition is "aws" when
// none is given and empty (not the given one) otherwise.
func ssoArnLike(m *roleMapping) string {
	if m.SSO == nil {
		return ""
	}
	partition := ""
	if m.SSO.Partition == "" {
		partition = "aws"
	}
	return strings.ToLower(fmt.Sprintf("arn:%s:iam::%s:role/AWSReservedSSO_%s_*", partition, m.SSO.AccountID, m.SSO.PermissionSetName))
}

// arnLikeCanonicalRole answers arn.ArnLike(s, "arn:*:iam:*:*:role/*") for the strings
// ssoArnLike builds: six colon-separated sections, service iam, resource starting role/.
func arnLikeCanonicalRole(s string) error {
	if !strings.HasPrefix(s, "arn:") {
		return errors.New("could not parse input arn: invalid prefix")
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return errors.New("could not parse input arn: not enough sections")
	}
	if parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return fmt.Errorf("SSOArnLike '%s' did not match an ARN for a canonicalized IAM Role", s)
	}
	return nil
}

func validateRole(m *roleMapping) error {
	if m.RoleARN == "" && m.SSO == nil {
		return errors.New("one of rolearn or SSO must be supplied")
	} else if m.RoleARN != "" && m.SSO != nil {
		return errors.New("only one of rolearn or SSO can be supplied")
	}
	if m.SSO != nil {
		if !accountIDRe.MatchString(m.SSO.AccountID) {
			return fmt.Errorf("AccountID '%s' is not a valid AWS Account ID", m.SSO.AccountID)
		}
		if !permissionSetRe.MatchString(m.SSO.PermissionSetName) {
			return fmt.Errorf("PermissionSetName '%s' is not a valid AWS SSO PermissionSet Name", m.SSO.PermissionSetName)
		}
		if m.SSO.Partition != "" {
			known := false
			for _, p := range partitions {
				known = known || p == m.SSO.Partition
			}
			if !known {
				return fmt.Errorf("partition '%s' is not a valid AWS partition", m.SSO.Partition)
			}
		}
		if err := arnLikeCanonicalRole(ssoArnLike(m)); err != nil {
			return err
		}
	}
	return nil
}

func validateUser(m *userMapping) error {
	if m.UserARN == "" {
		return errors.New("value for userarn must be supplied")
	}
	return nil
}

// isSkippable as in ParseMap: blank, "", '' or two backquotes after trimming.
func isSkippable(data string) bool {
	t := strings.TrimSpace(data)
	return t == "" || t == "``" || t == `""` || t == "''"
}

// toJSON is k8s.io/apimachinery's utilyaml.ToJSON: input whose first non-space character is
// `{` is taken as JSON unchanged; anything else goes through sigs.k8s.io/yaml.YAMLToJSON.
func toJSON(data []byte) ([]byte, error) {
	trimmed := bytes.TrimLeftFunc(data, unicode.IsSpace)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		return data, nil
	}
	return sigsyaml.YAMLToJSON(data)
}

// Section states, named as the product's `aws-auth show --output json` names them.
const (
	stateAbsent   = "absent"
	stateLoaded   = "loaded"
	stateLost     = "lost"
	stateNotAList = "not_a_list"
)

// jsonState classifies the error json.Unmarshal returned for a whole section: a type error on
// the top-level value means the section was not a list (nothing decoded); a type error deeper
// down only left one field empty; anything else (JSON syntax) loses the section.
func jsonState(err error, top reflect.Type) string {
	if err == nil {
		return stateLoaded
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" && te.Type == top {
			return stateNotAList
		}
		return stateLoaded
	}
	return stateLost
}

type roleOut struct {
	Key      string      `json:"key"`
	RoleARN  string      `json:"rolearn"`
	Username string      `json:"username"`
	Groups   []string    `json:"groups"`
	SSO      *ssoMatcher `json:"sso,omitempty"`
}

type userOut struct {
	UserARN  string   `json:"userarn"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

type verdict struct {
	// Manifest decoding (kubectl / the API server); empty when data was given directly.
	ManifestError string            `json:"manifest_error,omitempty"`
	Data          map[string]string `json:"data,omitempty"`
	Sections      map[string]string `json:"sections,omitempty"`
	// What saveMap holds: one role per Key() (last wins), one user per UserARN as written,
	// the set of accounts. Sorted, so that two verdicts compare as values.
	Roles    []roleOut `json:"roles"`
	Users    []userOut `json:"users"`
	Accounts []string  `json:"accounts"`
	// ParseMap's errors, in its order (users, roles, accounts), for people reading a verdict.
	Errors []string `json:"errors"`
}

func nonNil(g []string) []string {
	if g == nil {
		return []string{}
	}
	return g
}

// parseMap follows ParseMap step by step and then saveMap.
func parseMap(m map[string]string) verdict {
	v := verdict{Sections: map[string]string{}, Errors: []string{}}
	errs := func(err error) { v.Errors = append(v.Errors, err.Error()) }

	users := []userMapping{}
	v.Sections["mapUsers"] = stateAbsent
	if data, ok := m["mapUsers"]; ok && !isSkippable(data) {
		raw := []userMapping{}
		j, err := toJSON([]byte(data))
		if err != nil {
			errs(err)
			v.Sections["mapUsers"] = stateLost
		} else {
			err = json.Unmarshal(j, &raw)
			if err != nil {
				errs(err)
			}
			v.Sections["mapUsers"] = jsonState(err, reflect.TypeOf(raw))
			for i := range raw {
				if err := validateUser(&raw[i]); err != nil {
					errs(err)
				} else {
					users = append(users, raw[i])
				}
			}
		}
	}

	roles := []roleMapping{}
	v.Sections["mapRoles"] = stateAbsent
	if data, ok := m["mapRoles"]; ok && !isSkippable(data) {
		raw := []roleMapping{}
		j, err := toJSON([]byte(data))
		if err != nil {
			errs(err)
			v.Sections["mapRoles"] = stateLost
		} else {
			err = json.Unmarshal(j, &raw)
			if err != nil {
				errs(err)
			}
			v.Sections["mapRoles"] = jsonState(err, reflect.TypeOf(raw))
			for i := range raw {
				if err := validateRole(&raw[i]); err != nil {
					errs(err)
				} else {
					roles = append(roles, raw[i])
				}
			}
		}
	}

	accounts := []string{}
	v.Sections["mapAccounts"] = stateAbsent
	if data, ok := m["mapAccounts"]; ok && !isSkippable(data) {
		err := yaml.Unmarshal([]byte(data), &accounts)
		v.Sections["mapAccounts"] = stateLoaded
		if err != nil {
			errs(err)
			var te *yaml.TypeError
			if errors.As(err, &te) {
				// go-yaml keeps what it could decode; a type error on the document itself
				// ("into []string") means it was not a list.
				for _, e := range te.Errors {
					if strings.HasSuffix(e, "into []string") {
						v.Sections["mapAccounts"] = stateNotAList
					}
				}
			} else {
				v.Sections["mapAccounts"] = stateLost
			}
		}
	}

	// saveMap.
	roleByKey := map[string]roleMapping{}
	for _, r := range roles {
		key := strings.ToLower(r.RoleARN)
		if r.RoleARN == "" {
			key = ssoArnLike(&r)
		}
		roleByKey[key] = r
	}
	userByKey := map[string]userMapping{}
	for _, u := range users {
		userByKey[u.UserARN] = u
	}
	accountSet := map[string]bool{}
	for _, a := range accounts {
		accountSet[a] = true
	}

	v.Roles = []roleOut{}
	for k, r := range roleByKey {
		v.Roles = append(v.Roles, roleOut{Key: k, RoleARN: r.RoleARN, Username: r.Username, Groups: nonNil(r.Groups), SSO: r.SSO})
	}
	sort.Slice(v.Roles, func(i, j int) bool { return v.Roles[i].Key < v.Roles[j].Key })
	v.Users = []userOut{}
	for _, u := range userByKey {
		v.Users = append(v.Users, userOut{UserARN: u.UserARN, Username: u.Username, Groups: nonNil(u.Groups)})
	}
	sort.Slice(v.Users, func(i, j int) bool { return v.Users[i].UserARN < v.Users[j].UserARN })
	v.Accounts = []string{}
	for a := range accountSet {
		v.Accounts = append(v.Accounts, a)
	}
	sort.Strings(v.Accounts)
	return v
}

// The part of a ConfigMap the API server keeps: data is map[string]string, so a value that is
// not a string is refused when the manifest is decoded (kubectl apply / create).
type configMap struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
}

// splitDocuments splits a YAML stream as apimachinery's YAMLReader (util/yaml/decoder.go) does
// for kubectl: a line starting with "---" ends a document when what follows, trimmed, is empty
// or a comment; anything else after it is an error ("invalid Yaml document separator").
func splitDocuments(b []byte) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("---")) {
			rest := strings.TrimSpace(string(line[3:]))
			if rest != "" && !strings.HasPrefix(rest, "#") {
				return nil, fmt.Errorf("invalid Yaml document separator: %s", rest)
			}
			if cur.Len() > 0 {
				docs = append(docs, append([]byte(nil), cur.Bytes()...))
				cur.Reset()
			}
			continue
		}
		cur.Write(line)
	}
	if cur.Len() > 0 {
		docs = append(docs, cur.Bytes())
	}
	return docs, nil
}

// decodeManifest finds the aws-auth ConfigMap in a manifest (a ConfigMap, possibly inside a
// `kind: List`, as `kubectl get -o yaml` prints it) and returns its data map as the API server
// would store it.
func decodeManifest(b []byte) (map[string]string, error) {
	// kubectl's YAMLOrJSONDecoder reads a stream that starts with '{' as JSON, without the
	// YAML document splitting.
	docs := [][]byte{b}
	if t := bytes.TrimLeftFunc(b, unicode.IsSpace); len(t) == 0 || t[0] != '{' {
		var err error
		if docs, err = splitDocuments(b); err != nil {
			return nil, err
		}
	}
	for _, doc := range docs {
		j, err := toJSON(doc)
		if err != nil {
			return nil, err
		}
		var head struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(j, &head); err != nil {
			// null documents (comments only) and non-objects are not objects kubectl applies
			if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
				continue
			}
			return nil, err
		}
		objs := []json.RawMessage{j}
		if head.Kind == "List" {
			objs = head.Items
		}
		for _, o := range objs {
			var cm configMap
			if err := json.Unmarshal(o, &cm); err != nil {
				return nil, err
			}
			if cm.Kind == "ConfigMap" && cm.Metadata.Name == "aws-auth" {
				if cm.Data == nil {
					cm.Data = map[string]string{}
				}
				return cm.Data, nil
			}
		}
	}
	return nil, errors.New("no ConfigMap named aws-auth")
}

type request struct {
	Manifest *string          `json:"manifest"`
	Data     map[string]string `json:"data"`
}

func answer(req request) verdict {
	if req.Manifest != nil {
		data, err := decodeManifest([]byte(*req.Manifest))
		if err != nil {
			return verdict{ManifestError: err.Error(), Roles: []roleOut{}, Users: []userOut{}, Accounts: []string{}, Errors: []string{}}
		}
		v := parseMap(data)
		v.Data = data
		return v
	}
	return parseMap(req.Data)
}

// sourceHash is the SHA-256 of main.go, set by build.sh (-ldflags -X), so that the tests can
// refuse a binary built from an older main.go.
var sourceHash = "unknown"

func main() {
	jsonl := flag.Bool("jsonl", false, "read one JSON request per line, write one verdict per line")
	version := flag.Bool("version", false, "print the SHA-256 of the main.go this binary was built from")
	flag.Parse()
	if *version {
		fmt.Println("awsauth-oracle main.go sha256:" + sourceHash)
		return
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if !*jsonl {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "awsauth-oracle:", err)
			os.Exit(1)
		}
		s := string(b)
		if err := enc.Encode(answer(request{Manifest: &s})); err != nil {
			fmt.Fprintln(os.Stderr, "awsauth-oracle:", err)
			os.Exit(1)
		}
		return
	}
	in := bufio.NewReader(os.Stdin)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				fmt.Fprintln(os.Stderr, "awsauth-oracle: bad request:", jerr)
				os.Exit(2)
			}
			if eerr := enc.Encode(answer(req)); eerr != nil {
				fmt.Fprintln(os.Stderr, "awsauth-oracle:", eerr)
				os.Exit(1)
			}
			// Flush per line: the caller may wait for each answer.
			if ferr := out.Flush(); ferr != nil {
				os.Exit(1)
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "awsauth-oracle:", err)
			os.Exit(1)
		}
	}
}
