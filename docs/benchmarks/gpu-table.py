#!/usr/bin/env python3
"""Turns the `lmu bench memory` lines of a gpu-run.sh log into a Markdown table, each run set against the issue's
floor max(4·B·T·(d+1) bytes / 3 TB/s, 2·B·T·(d²+d) flop / 60 TFLOP/s) (H100 figures).

Usage: docs/benchmarks/gpu-table.py gpu.log [DEFAULT_PHASE_C] > table.md
DEFAULT_PHASE_C is the phase-C kernel of runs that do not set LMU_SCAN_STATES: gemm (the default since run 8), or
steps for the logs of runs 1-8.
Each row: the kernel choices from the logged environment (LMU_SCAN_STATES, LMU_GEMM_GROUPS_PER_SM, LMU_GEMM_BUFFERS,
LMU_SPECIALIZE, LMU_SCAN_WINDOW, LMU_WINDOW_PRODUCT), the options that
change the run (--chunk, --carry-segment, --window, --window-product, --output final), the sizes, the median,
states/s, the per-phase medians when the run had --phases (with H where the carries came from windows, and P = the
window product's launches), and the median over the floor (which
counts all states even for final-only runs). `lmu bench training` lines, where there are any, come first in a table
of their own.
"""
import re
import sys

COMMAND = re.compile(r'^\$ (?P<env>(?:\w+=\S+ )*)lmu bench memory (?P<args>.*)$')
RESULT = re.compile(r'^method=(?P<method>\S+)(?: output=(?P<output>\S+))? accelerator=(?P<acc>\S+) d=(?P<d>\d+) T=(?P<T>\d+) '
                    r'B=(?P<B>\d+) median_s=(?P<median>\S+) states_per_s=(?P<rate>\S+)')
TRAINING = re.compile(r'^model=(?P<model>\S+) method=(?P<method>\S+)(?: theta=(?P<theta>\S+))?(?: dense=(?P<dense>\S+))? '
                      r'accelerator=(?P<acc>\S+) d=(?P<d>\d+) T=(?P<T>\d+) B=(?P<B>\d+) n=(?P<n>\d+) median_s=(?P<median>\S+) '
                      r'sequences_per_s=(?P<rate>\S+)')
PHASES = re.compile(r'^phases: ends_s=(?P<a>\S+) carries_s=(?P<b>\S+) states_s=(?P<c>\S+)(?: window_h=(?P<h>\d+))?(?: window_products=(?P<p>\d+))?')


def option(args, name):
    m = re.search(re.escape(name) + r' (\S+)', args)
    return m.group(1) if m else ''


def floor_seconds(d, t, b):
    return max(4 * b * t * (d + 1) / 3e12, 2 * b * t * (d * d + d) / 60e12)


def ms(seconds):
    return f'{1e3 * seconds:.3g}'


def main(path, default_states):
    rows = []
    pending = None
    for line in open(path, encoding='utf-8', errors='replace'):
        line = line.rstrip('\n')
        m = COMMAND.match(line)
        if m:
            pending = {'env': m.group('env').strip(), 'args': m.group('args')}
            continue
        m = RESULT.match(line)
        if m and pending is not None:
            d, t, b = int(m.group('d')), int(m.group('T')), int(m.group('B'))
            median = float(m.group('median'))
            env = pending['env']
            states = re.search(r'LMU_SCAN_STATES=(\w+)', env)
            groups = re.search(r'LMU_GEMM_GROUPS_PER_SM=(\d+)', env)
            buffers = re.search(r'LMU_GEMM_BUFFERS=(\d+)', env)
            specialize = re.search(r'LMU_SPECIALIZE=(\w+)', env)
            window = re.search(r'LMU_SCAN_WINDOW=(\w+)', env)
            product = re.search(r'LMU_WINDOW_PRODUCT=(\w+)', env)
            kernel = m.group('method')
            if m.group('method').startswith(('scan', 'auto')) and not m.group('method').startswith('scan('):
                kernel += ' ' + (states.group(1) if states else default_states)
                if groups:
                    kernel += f' (groups/SM {groups.group(1)})'
                if buffers:
                    kernel += f' (buffers {buffers.group(1)})'
                if specialize:
                    kernel += f' (specialize {specialize.group(1)})'
                if window:
                    kernel += f' (window {window.group(1)})'
                if product:
                    kernel += f' (window product {product.group(1)})'
            extra = ' '.join(x for x in (
                f"L={option(pending['args'], '--chunk')}" if option(pending['args'], '--chunk') else '',
                f"G={option(pending['args'], '--carry-segment')}" if option(pending['args'], '--carry-segment') else '',
                f"window {option(pending['args'], '--window')}" if option(pending['args'], '--window') else '',
                f"product {option(pending['args'], '--window-product')}" if option(pending['args'], '--window-product') else '',
                f"output {m.group('output')}" if m.group('output') else '') if x)
            rows.append({'kernel': kernel, 'extra': extra, 'd': d, 'T': t, 'B': b, 'median': median,
                         'rate': m.group('rate'), 'phases': '', 'floor': floor_seconds(d, t, b)})
            pending = None
            continue
        m = PHASES.match(line)
        if m and rows:
            rows[-1]['phases'] = ' / '.join(ms(float(m.group(k))) for k in 'abc')
            if m.group('h') and int(m.group('h')) > 0:
                rows[-1]['phases'] += f" (H={m.group('h')})"
            if m.group('p') and int(m.group('p')) > 0:
                rows[-1]['phases'] += f" (P={m.group('p')})"
    training = []
    for line in open(path, encoding='utf-8', errors='replace'):
        m = TRAINING.match(line.rstrip('\n'))
        if m:
            training.append(m)
    if training:
        print('| model | method | θ | dense products | d | T | B | units | median (ms) | sequences/s |')
        print('|---|---|---|---|---|---|---|---|---|---|')
        for m in training:
            print(f"| {m.group('model')} | {m.group('method')} | {m.group('theta') or 'fixed'} | {m.group('dense') or ''} | {m.group('d')} | "
                  f"{int(m.group('T')):,} | {m.group('B')} | {m.group('n')} | {ms(float(m.group('median')))} | {m.group('rate')} |")
        print()
    print('| kernel | options | d | T | B | median (ms) | states/s | phases A / B / C (ms) | floor (ms) | median ÷ floor |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['kernel']} | {r['extra']} | {r['d']} | {r['T']:,} | {r['B']} | {ms(r['median'])} | {r['rate']} | "
              f"{r['phases']} | {ms(r['floor'])} | {r['median'] / r['floor']:.1f}× |")


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else 'gemm')
