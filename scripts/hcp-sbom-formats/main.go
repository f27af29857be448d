package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
)

type ValidationError struct{ Err error }

func (e *ValidationError) Error() string { return e.Err.Error() }

func validateCycloneDX(content []byte) error {
	decoder := cyclonedx.NewBOMDecoder(bytes.NewBuffer(content), cyclonedx.BOMFileFormatJSON)
	bom := new(cyclonedx.BOM)
	if err := decoder.Decode(bom); err != nil {
		return fmt.Errorf("error parsing CycloneDX SBOM: %w", err)
	}
	if !strings.EqualFold(bom.BOMFormat, "CycloneDX") {
		return &ValidationError{Err: fmt.Errorf("invalid bomFormat: %q, expected CycloneDX", bom.BOMFormat)}
	}
	if bom.SpecVersion.String() == "" {
		return &ValidationError{Err: fmt.Errorf("specVersion is required")}
	}
	return nil
}

func validateSPDX(content []byte) error {
	doc, err := spdxjson.Read(bytes.NewBuffer(content))
	if err != nil {
		return fmt.Errorf("error parsing SPDX JSON file: %w", err)
	}
	if doc.SPDXVersion == "" {
		return &ValidationError{Err: fmt.Errorf("missing SPDXVersion")}
	}
	return nil
}

func validateSBOM(content []byte) (string, error) {
	spdxErr := validateSPDX(content)
	if spdxErr == nil {
		return "SPDX", nil
	}
	if vErr, ok := spdxErr.(*ValidationError); ok {
		return "", vErr
	}
	cycloneDxErr := validateCycloneDX(content)
	if cycloneDxErr == nil {
		return "CYCLONEDX", nil
	}
	if vErr, ok := cycloneDxErr.(*ValidationError); ok {
		return "", vErr
	}
	return "", fmt.Errorf("error validating SBOM file: invalid SBOM format")
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f, err := validateSBOM([]byte(sc.Text()))
		if err != nil {
			fmt.Println("ERR " + err.Error())
		} else {
			fmt.Println("OK " + f)
		}
	}
}
