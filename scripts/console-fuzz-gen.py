#!/usr/bin/env python3
# Random HCL expressions (many of them erroneous) for scripts/console-fuzz.sh.
# Usage: console-fuzz-gen.py SEED COUNT [DEPTH]
import random, sys
random.seed(int(sys.argv[1])); N=int(sys.argv[2])
atoms = ['1','0','-3','2.5','1e3','"a"','"B c"','""','"10"','true','false','null','[]','{}','[1,2,3]','["x","y"]','{a=1,b="2"}','{"k"="v"}','var.s','var.n','var.l','var.m','var.o','local.t','"${var.s}-x"','"%{ for x in var.l }${x},%{ endfor }"']
funcs1 = ['upper','lower','length','abs','ceil','floor','tostring','tonumber','tobool','tolist','toset','tomap','keys','values','reverse','sort','distinct','flatten','compact','sum','max','min','jsonencode','yamlencode','base64encode','md5','title','trimspace','chomp','strrev','signum','type','can','try','one','nonsensitive','sensitive','coalesce','coalescelist','concat','merge','lookup','element','index','contains','join','split','format','formatlist','replace','substr','slice','range','zipmap','setunion','setintersection','alltrue','anytrue','startswith','endswith','log','pow','parseint','regex','regexall','trimprefix','trimsuffix','indent','urlencode','sha1','uuidv5','cidrhost','textencodebase64','timeadd','formatdate','templatefile','fileexists','abspath','basename','dirname','pathexpand','chunklist','setproduct','transpose','sum','strcontains','jsondecode','yamldecode','base64decode','csvdecode','tuple','list','map','can']
ops = ['+','-','*','/','%','==','!=','<','>','<=','>=','&&','||']
def e(d):
    r = random.random()
    if d <= 0 or r < 0.3: return random.choice(atoms)
    if r < 0.55:
        f = random.choice(funcs1); k = random.choice([0,1,1,1,2,2,3])
        return f + '(' + ', '.join(e(d-1) for _ in range(k)) + ')'
    if r < 0.7: return e(d-1) + ' ' + random.choice(ops) + ' ' + e(d-1)
    if r < 0.78: return e(d-1) + ' ? ' + e(d-1) + ' : ' + e(d-1)
    if r < 0.84: return '[for x in ' + e(d-1) + ' : ' + random.choice(['x', e(d-1)]) + ']'
    if r < 0.88: return '{for k, v in ' + e(d-1) + ' : k => v}'
    if r < 0.92: return e(d-1) + '[' + e(d-1) + ']'
    if r < 0.95: return e(d-1) + '.' + random.choice(['a','b','k','0'])
    if r < 0.97: return '!' + e(d-1)
    return '(' + e(d-1) + ')[*]'
D=int(sys.argv[3]) if len(sys.argv)>3 else 3
for _ in range(N): print(e(D))
