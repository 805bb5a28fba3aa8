#!/usr/bin/env python3
# Regenerates the `mod libyaml` copy at the end of sim/src/yaml11.rs from src/awsauth/libyaml.rs
# (eks-sim is a separate crate and keeps its own copy). Run from the repo root, then
# `rustfmt --edition 2024 sim/src/yaml11.rs`.
import re,subprocess
src=open('src/awsauth/libyaml.rs').read()
body=src[:src.index('#[cfg(test)]\nmod tests {')].rstrip()+'\n'
lines=[l for l in body.split('\n') if not l.startswith('//!')]
body='\n'.join(lines).lstrip('\n')
body=body.replace('use super::yaml::Pos;\n','''/// A position: 1-based line and column (characters), byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}
''',1)
ind='\n'.join(('    '+l if l.strip() else '') for l in body.split('\n')).rstrip()+'\n'
sim=open('sim/src/yaml11.rs').read()
a=sim.index('mod libyaml {\n')
new=sim[:a]+'mod libyaml {\n'+ind+'}\n'
open('sim/src/yaml11.rs','w').write(new)
