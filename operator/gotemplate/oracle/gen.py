# Generates random, mostly well-formed templates (one JSON string a line) for compare.sh:
# python3 gen.py SEED COUNT
import random, json, sys
random.seed(int(sys.argv[1]))
def lit():
    return random.choice(["\"s\"","`r`","1","2","-1","1.5","0x1f","1e3","'c'","true","false","nil","\"a-b\"","\"-\"","0","3","\"%v-%d\"","\"\\t\\u00e9\"","1_000","0o17","0b101","1i","2.0"])
def field():
    return random.choice([".Name",".List",".S.Vars",".S.Path",".S.Nope",".Sub.X",".Sub.Y",".Count",".Missing",".Nil",".","$","$x",".Empty",".Sub",".S",".Name.X"])
fns = {"upper":1,"split":3,"printf":-1,"print":-1,"println":-1,"len":1,"index":-1,"slice":-1,"eq":-1,"ne":2,"lt":2,"le":2,"gt":2,"ge":2,"and":-1,"or":-1,"not":1,"html":-1,"js":-1,"urlquery":-1,"isotime":-1,"fail":0,"call":-1}
def expr(d=0):
    r=random.random()
    if r<0.3 or d>2: return random.choice([lit,field])()
    if r<0.4: return "("+pipe(d+1)+")"
    f=random.choice(list(fns))
    n=fns[f]
    if n<0 or random.random()<0.1: n=random.randint(0,3)
    return " ".join([f]+[expr(d+1) for _ in range(n)])
def pipe(d=0):
    p=expr(d)
    if random.random()<0.25:
        p+=" | "+random.choice(["upper","print","printf \"%q\"","len","not","html","urlquery","println","eq \"web\"","index .Sub"])
    return p
def node(d=0):
    r=random.random()
    if r<0.25: return random.choice(["a","-","\n"," ","x y"])
    if r<0.55: return "{{"+random.choice([""," ","- "])+pipe()+random.choice([""," "," -"])+"}}"
    if r<0.62: return "{{ $x := "+pipe()+" }}"
    if d>2: return "z"
    kw=random.choice(["if","with","range"])
    head = pipe()
    if kw=="range" and random.random()<0.4: head=random.choice(["$i, $e := ","$e := "])+head
    body="".join(node(d+1) for _ in range(random.randint(0,3)))
    if kw=="range" and random.random()<0.3: body+=random.choice(["{{break}}","{{continue}}"])
    els = ""
    if random.random()<0.4: els="{{else}}"+"".join(node(d+1) for _ in range(random.randint(0,2)))
    return "{{"+kw+" "+head+"}}"+body+els+"{{end}}"
for _ in range(int(sys.argv[2])):
    print(json.dumps("".join(node() for _ in range(random.randint(1,4)))))
