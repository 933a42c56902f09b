package jsonobj

import (
	"reflect"
	"testing"
)

var scanSeeds = []string{
	`{}`, ` { } `, `[]`, `"x"`, `1`,
	`{"linux":{"seccomp":{}}}`,
	"{\n  \"ociVersion\": \"1.1.0\",\n  \"process\": {\"args\": [\"sh\", \"-c\", \"}]\\\"{\"]},\n  \"linux\" : { \"seccomp\" : null , \"x\":[1,2e5,-0.5,true,false,null] }\n}\n",
	`{"\u006cinux":{},"linux":{}}`,
	`{"\u004cinux":{}}`,
	`{"annotations":{"a":"b"},"Annotations":{}}`,
	`{"linux":{"seccomp":1,"Seccomp":2}}`,
	`{"process":{"env":[],"env":[]}}`,
	`{"linux":[{"a":1,"a":2}]}`,
	`{"a":"\\","b":"\"","linux":{"c\\"d":1}}`,
	"{\"\xff\":1,\"\xfe\":2}",
	`{"a":1}trailing`,
	`{"a":{"b":[{"c":{}}]},"z":0}`,
	`{"a":1,}`,
}

// FuzzScanNested holds the walk over valid documents to json.Decoder's
// reading of them: the same spans, the same closing brace, the same
// refusals.
func FuzzScanNested(f *testing.F) {
	for _, seed := range scanSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		nested := []string{"process", "linux"}
		edited := []string{"linux", "annotations"}
		got, gotErr := ScanNested(doc, "config.json", nested, edited...)
		want, wantErr := scanWithDecoder(doc, "config.json", nested, edited)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: error %v, the decoder's %v", doc, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: members %+v, the decoder's %+v", doc, got, want)
		}
	})
}
