// Copied into packer-plugin-qemu v1.1.7's builder/qemu package by
// scripts/qemu-plugin-argv.sh: runs the plugin's own Config.Prepare and stepRun.getCommandArgs
// on the configurations of Kiln's argv parity test and writes the argv as JSON.
package qemu

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

type kilnArgvCase struct {
	Name  string                 `json:"name"`
	Raw   map[string]interface{} `json:"config"`
	State map[string]interface{} `json:"state"`
	Argv  []string               `json:"argv"`
}

func TestKilnArgvDump(t *testing.T) {
	in := os.Getenv("KILN_ARGV_IN")
	out := os.Getenv("KILN_ARGV_OUT")
	if in == "" || out == "" {
		t.Skip("KILN_ARGV_IN/KILN_ARGV_OUT not set")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var cases []kilnArgvCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		tc := &cases[i]
		raw := map[string]interface{}{"packer_build_name": "kiln"}
		for k, v := range tc.Raw {
			raw[k] = v
		}
		var c Config
		if _, err := c.Prepare(raw); err != nil {
			t.Fatalf("%s: prepare: %s", tc.Name, err)
		}
		state := new(multistep.BasicStateBag)
		state.Put("config", &c)
		state.Put("http_ip", "10.0.2.2")
		state.Put("http_port", 8123)
		state.Put("vnc_port", 5907)
		state.Put("vnc_password", "")
		state.Put("iso_path", "/isos/source.iso")
		if c.CommConfig.Comm.Type != "none" {
			state.Put("commHostPort", 3333)
		}
		// stepCreateDisk's qemu_disk_paths: the main disk plus the additional ones.
		paths := []string{filepath.Join(c.OutputDir, c.VMName)}
		for j := range c.AdditionalDiskSize {
			paths = append(paths, filepath.Join(c.OutputDir, c.VMName+"-"+string(rune('1'+j))))
		}
		state.Put("qemu_disk_paths", paths)
		for k, v := range tc.State {
			state.Put(k, v)
		}
		step := &stepRun{DiskImage: c.DiskImage, atLeastVersion2: true, ui: packersdk.TestUi(t)}
		args, err := step.getCommandArgs(&c, state)
		if err != nil {
			t.Fatalf("%s: %s", tc.Name, err)
		}
		tc.Argv = args
	}
	b, _ := json.MarshalIndent(cases, "", "  ")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
