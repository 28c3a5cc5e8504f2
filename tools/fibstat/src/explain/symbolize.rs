//! Source lines for stack frames, as scripts/decode_stacktrace.sh and
//! syzkaller's syz-symbolize give them: `func+0x1d/0x40 [mod]` becomes the
//! function's file:line, preceded by the functions inlined at that address
//! (`[inline]`), Rust names demangled.
//!
//! The address is the symbol's address (from the ELF symbol table; of
//! several symbols of that name, the one of the printed size) plus the
//! offset, minus one for return addresses (every frame but the faulting
//! `RIP:`), looked up in the DWARF of vmlinux or of the module's `.ko`
//! with addr2line/gimli. A `.ko` is a relocatable object: its sections all
//! start at 0 and its DWARF refers to code through relocations, so its
//! allocated sections are laid out one after another first, and the
//! relocations of the DWARF sections applied against that layout.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use gimli::{EndianRcSlice, Reader as _, RunTimeEndian, SectionId};
use object::read::ReadCache;
use object::{
    CompressionFormat, Object, ObjectKind, ObjectSection, ObjectSymbol, RelocationKind,
    RelocationTarget, SectionFlags, SectionIndex, SymbolKind,
};

use super::frame::{clean_function, demangle, is_lock_machinery};
use super::model::{Frame, Inlined, Output, Report};

type Reader = EndianRcSlice<RunTimeEndian>;

/// A source position of a frame: the function (demangled) and its file:line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

impl Location {
    /// `file:line`, when both are known.
    pub fn file_line(&self) -> Option<String> {
        Some(format!("{}:{}", self.file.as_deref()?, self.line?))
    }
}

#[derive(Debug, Clone, Copy)]
struct Sym {
    addr: u64,
    size: u64,
}

/// One ELF file with its symbols and DWARF.
struct Binary {
    symbols: HashMap<String, Vec<Sym>>,
    ctx: addr2line::Context<Reader>,
    /// Directory prefixes removed from file names (build and source trees).
    strip: Vec<String>,
}

fn err(path: &Path, what: impl std::fmt::Display) -> String {
    format!("{}: {what}", path.display())
}

fn is_alloc(flags: SectionFlags) -> bool {
    match flags {
        SectionFlags::Elf { sh_flags, .. } => sh_flags.0 & object::elf::SHF_ALLOC.0 != 0,
        _ => false,
    }
}

impl Binary {
    fn load(path: &Path) -> Result<Binary, String> {
        let file = File::open(path).map_err(|e| err(path, e))?;
        let cache = ReadCache::new(&file);
        let obj =
            object::File::parse(&cache).map_err(|e| err(path, format!("not an ELF file ({e})")))?;
        let endian = if obj.is_little_endian() {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        };
        let relocatable = obj.kind() == ObjectKind::Relocatable;
        // A relocatable object's allocated sections, laid out in order.
        let mut bases: HashMap<SectionIndex, u64> = HashMap::new();
        if relocatable {
            let mut cursor = 0x1000u64;
            for s in obj.sections() {
                if is_alloc(s.flags()) && s.size() > 0 {
                    let align = s.align().max(1);
                    cursor = cursor.div_ceil(align) * align;
                    bases.insert(s.index(), cursor);
                    cursor += s.size();
                }
            }
        }
        let base_of =
            |idx: Option<SectionIndex>| idx.and_then(|i| bases.get(&i).copied()).unwrap_or(0);

        let mut symbols: HashMap<String, Vec<Sym>> = HashMap::new();
        for sym in obj.symbols() {
            if sym.kind() != SymbolKind::Text || sym.section_index().is_none() {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            symbols.entry(name.to_owned()).or_default().push(Sym {
                addr: sym.address() + base_of(sym.section_index()),
                size: sym.size(),
            });
        }
        if obj.section_by_name(".debug_info").is_none() {
            return Err(err(
                path,
                "no DWARF debug info (.debug_info); build with CONFIG_DEBUG_INFO",
            ));
        }

        let load = |id: SectionId| -> Result<Reader, String> {
            let Some(section) = obj.section_by_name(id.name()) else {
                return Ok(EndianRcSlice::new(Rc::from(Vec::new()), endian));
            };
            let range = section
                .compressed_file_range()
                .map_err(|e| err(path, format!("{}: {e}", id.name())))?;
            let mut data = if range.format == CompressionFormat::None {
                let mut v = vec![0u8; range.uncompressed_size as usize];
                file.read_exact_at(&mut v, range.offset)
                    .map_err(|e| err(path, format!("{}: {e}", id.name())))?;
                v
            } else {
                section
                    .uncompressed_data()
                    .map_err(|e| err(path, format!("{}: {e}", id.name())))?
                    .into_owned()
            };
            if relocatable {
                relocate(&obj, &section, &mut data, &base_of, endian);
            }
            Ok(EndianRcSlice::new(Rc::from(data), endian))
        };
        let dwarf = gimli::Dwarf::load(load)?;

        let mut strip = Vec::new();
        if let Some(dir) = path
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            strip.push(format!("{}/", dir.display()));
        }
        // The units' build directories and the directories of their root
        // source files (an out-of-tree module's own sources).
        let mut units = dwarf.units();
        let mut seen = 0;
        while let Ok(Some(header)) = units.next() {
            seen += 1;
            if seen > 64 {
                break;
            }
            let Ok(unit) = dwarf.unit(header) else {
                continue;
            };
            if let Some(dir) = unit
                .comp_dir
                .as_ref()
                .and_then(|d| d.to_string_lossy().ok())
            {
                strip.push(format!("{}/", dir.trim_end_matches('/')));
            }
            if let Some(name) = unit.name.as_ref().and_then(|n| n.to_string_lossy().ok()) {
                // rustc names a unit `SRC/@/CRATE.HASH-cgu.N`.
                let name = name.split("/@/").next().unwrap_or(&name);
                if let Some((dir, _)) = name.rsplit_once('/') {
                    if name.starts_with('/') {
                        strip.push(format!("{dir}/"));
                    }
                }
            }
        }
        strip.sort_by_key(|s| std::cmp::Reverse(s.len()));
        strip.dedup();

        let ctx =
            addr2line::Context::from_dwarf(dwarf).map_err(|e| err(path, format!("DWARF: {e}")))?;
        Ok(Binary {
            symbols,
            ctx,
            strip,
        })
    }

    fn clean_path(&self, file: &str) -> String {
        for p in &self.strip {
            if let Some(rest) = file.strip_prefix(p.as_str()) {
                return rest.trim_start_matches("./").to_owned();
            }
        }
        file.trim_start_matches("./").to_owned()
    }

    /// The address of `symbol+offset` (of the symbol with `size` if several).
    fn address(&self, symbol: &str, offset: u64, size: Option<u64>) -> Option<u64> {
        let cands = self.symbols.get(symbol)?;
        let s = cands
            .iter()
            .find(|s| Some(s.size) == size)
            .or_else(|| cands.first())?;
        Some(s.addr + offset)
    }

    /// Locations at `pc`, innermost inlined function first, the function
    /// itself last.
    fn locate(&self, pc: u64) -> Vec<Location> {
        let mut out = Vec::new();
        let Ok(mut frames) = self.ctx.find_frames(pc).skip_all_loads() else {
            return out;
        };
        while let Ok(Some(f)) = frames.next() {
            let function = f
                .function
                .as_ref()
                .and_then(|n| n.raw_name().ok())
                .map(|n| demangle(&n))
                .unwrap_or_default();
            let (file, line) = match &f.location {
                Some(l) => (l.file.map(|p| self.clean_path(p)), l.line),
                None => (None, None),
            };
            out.push(Location {
                function,
                file,
                line,
            });
        }
        out
    }
}

/// Applies the relocations of a DWARF section of a relocatable object.
fn relocate<'d, R: object::ReadRef<'d>>(
    obj: &object::File<'d, R>,
    section: &object::Section<'d, '_, R>,
    data: &mut [u8],
    base_of: &dyn Fn(Option<SectionIndex>) -> u64,
    endian: RunTimeEndian,
) {
    use gimli::Endianity;
    for (offset, reloc) in section.relocations() {
        let RelocationTarget::Symbol(idx) = reloc.target() else {
            continue;
        };
        let Ok(sym) = obj.symbol_by_index(idx) else {
            continue;
        };
        if reloc.kind() != RelocationKind::Absolute {
            continue;
        }
        let Ok(at) = usize::try_from(offset) else {
            continue;
        };
        let mut value = sym.address().wrapping_add(base_of(sym.section_index()));
        value = value.wrapping_add_signed(reloc.addend());
        match reloc.size() {
            64 => {
                if let Some(b) = data.get_mut(at..at + 8) {
                    if reloc.has_implicit_addend() {
                        value = value.wrapping_add(endian.read_u64(b));
                    }
                    endian.write_u64(b, value);
                }
            }
            32 => {
                if let Some(b) = data.get_mut(at..at + 4) {
                    if reloc.has_implicit_addend() {
                        value = value.wrapping_add(u64::from(endian.read_u32(b)));
                    }
                    endian.write_u32(b, value as u32);
                }
            }
            _ => {}
        }
    }
}

fn hex(s: Option<&str>) -> Option<u64> {
    u64::from_str_radix(s?.trim_start_matches("0x"), 16).ok()
}

/// Finds `NAME.ko` under `dir` (kernel module names use `_` where the file
/// may use `-`).
fn find_module(dir: &Path, name: &str) -> Option<PathBuf> {
    let want = name.replace('-', "_");
    let mut stack = vec![dir.to_path_buf()];
    let mut visited = 0;
    while let Some(d) = stack.pop() {
        visited += 1;
        if visited > 10_000 {
            break;
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut subdirs = Vec::new();
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                subdirs.push(p);
            } else if let Some(stem) = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".ko"))
            {
                if stem.replace('-', "_") == want {
                    return Some(p);
                }
            }
        }
        subdirs.sort();
        stack.extend(subdirs.into_iter().rev());
    }
    None
}

/// Symbolizes frames against vmlinux and a modules directory.
pub struct Symbolizer {
    vmlinux: Option<Binary>,
    modules_dir: Option<PathBuf>,
    modules: HashMap<String, Option<Binary>>,
    warnings: Vec<String>,
}

impl Symbolizer {
    /// Loads vmlinux (if given) now, and modules from `modules_dir` when a
    /// frame names them.
    pub fn new(vmlinux: Option<&Path>, modules_dir: Option<&Path>) -> Result<Symbolizer, String> {
        let vmlinux = vmlinux
            .map(|p| Binary::load(p).map_err(|e| format!("--vmlinux {e}")))
            .transpose()?;
        if let Some(d) = modules_dir {
            if !d.is_dir() {
                return Err(format!("--modules {}: not a directory", d.display()));
            }
        }
        Ok(Symbolizer {
            vmlinux,
            modules_dir: modules_dir.map(Path::to_path_buf),
            modules: HashMap::new(),
            warnings: Vec::new(),
        })
    }

    /// Looks for modules in another directory from now on.
    pub fn set_modules_dir(&mut self, dir: &Path) -> Result<(), String> {
        if !dir.is_dir() {
            return Err(format!("--modules {}: not a directory", dir.display()));
        }
        self.modules_dir = Some(dir.to_path_buf());
        self.modules.clear();
        Ok(())
    }

    /// Problems met on the way (a module not found, no debug info).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn binary(&mut self, module: Option<&str>) -> Option<&Binary> {
        let Some(m) = module else {
            return self.vmlinux.as_ref();
        };
        if !self.modules.contains_key(m) {
            let loaded = match self.modules_dir.as_deref().map(|d| (d, find_module(d, m))) {
                None => None,
                Some((d, None)) => {
                    self.warnings
                        .push(format!("module {m}: no {m}.ko under {}", d.display()));
                    None
                }
                Some((_, Some(path))) => match Binary::load(&path) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        self.warnings.push(format!("module {m}: {e}"));
                        None
                    }
                },
            };
            self.modules.insert(m.to_owned(), loaded);
        }
        self.modules.get(m).and_then(Option::as_ref)
    }

    /// The locations of a frame (innermost first, the frame's function
    /// last); `exact`: the address is the faulting instruction itself, not
    /// a return address.
    pub fn locate(&mut self, frame: &Frame, exact: bool) -> Vec<Location> {
        let (Some(off), size) = (hex(frame.offset.as_deref()), hex(frame.size.as_deref())) else {
            return Vec::new();
        };
        let module = frame.module.clone();
        let Some(bin) = self.binary(module.as_deref()) else {
            return Vec::new();
        };
        let Some(addr) = bin.address(&frame.symbol, off, size) else {
            return Vec::new();
        };
        let pc = if exact || off == 0 { addr } else { addr - 1 };
        bin.locate(pc)
    }

    /// Adds source lines to a frame (if it has none yet).
    fn annotate(&mut self, frame: &mut Frame, exact: bool) {
        if frame.file.is_some() || frame.inline {
            return;
        }
        let locs = self.locate(frame, exact);
        let Some((outer, inner)) = locs.split_last() else {
            return;
        };
        frame.file.clone_from(&outer.file);
        frame.line = outer.line;
        frame.inlined = inner
            .iter()
            .map(|l| Inlined {
                function: l.function.clone(),
                file: l.file.clone(),
                line: l.line,
            })
            .collect();
    }

    /// Symbolizes every frame of every report, and fills the process-side
    /// and interrupt-side source lines of lockdep reports.
    pub fn apply(&mut self, out: &mut Output) {
        for r in &mut out.reports {
            self.apply_report(r);
        }
    }

    fn apply_report(&mut self, r: &mut Report) {
        if let Some(f) = r.acquired_at.as_mut() {
            self.annotate(f, false);
        }
        if let Some(f) = r.rip.as_mut() {
            self.annotate(f, true);
        }
        for f in r
            .registration_stack
            .iter_mut()
            .chain(r.current_stack.iter_mut())
        {
            self.annotate(f, false);
        }
        for c in &mut r.chain {
            for f in &mut c.stack {
                self.annotate(f, false);
            }
        }
        for s in &mut r.stacks {
            for f in &mut s.frames {
                self.annotate(f, false);
            }
        }
        for h in &mut r.held_locks {
            if let Some(f) = h.acquired_at.as_mut() {
                self.annotate(f, false);
            }
        }
        let (proc_stack, irq_stack) = match r.process_side.as_deref() {
            Some("registration") => (&r.registration_stack, &r.current_stack),
            Some("current") => (&r.current_stack, &r.registration_stack),
            _ => return,
        };
        let (a, b) = side_source(proc_stack);
        let (c, d) = side_source(irq_stack);
        r.process_side_source = a;
        r.process_side_lock_call = b;
        r.irq_side_source = c;
        r.irq_side_lock_call = d;
    }
}

/// The source line where a stack's caller takes the lock, and the line the
/// lock call itself comes from: of the caller frame (the first reliable
/// frame outside lock machinery), the innermost location outside lock
/// machinery, and the innermost location of all (e.g. the kernel crate's
/// `SpinLock` backend, inlined, calling `spin_lock()`).
fn side_source(stack: &[Frame]) -> (Option<String>, Option<String>) {
    let Some(f) = stack
        .iter()
        .find(|f| !f.unreliable && !is_lock_machinery(&f.function))
    else {
        return (None, None);
    };
    let outer = Location {
        function: clean_function(&f.function).to_owned(),
        file: f.file.clone(),
        line: f.line,
    };
    let mut chain: Vec<Location> = f
        .inlined
        .iter()
        .map(|i| Location {
            function: i.function.clone(),
            file: i.file.clone(),
            line: i.line,
        })
        .collect();
    chain.push(outer);
    let source = chain
        .iter()
        .find(|l| !is_lock_machinery(&l.function) && !l.file.as_deref().is_some_and(is_header))
        .and_then(Location::file_line);
    let call = chain.first().and_then(Location::file_line);
    let call = if call == source { None } else { call };
    (source, call)
}

/// Headers where lock wrappers are inlined from (`include/linux/spinlock.h`).
fn is_header(file: &str) -> bool {
    file.ends_with(".h")
}
