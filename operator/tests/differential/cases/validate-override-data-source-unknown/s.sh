#!/bin/sh
echo from-script $PACKER_BUILD_NAME
