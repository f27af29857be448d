#!/bin/sh
echo ${greeting
