#!/bin/sh
echo two $PACKER_BUILD_NAME
