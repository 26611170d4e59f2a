<#
.SYNOPSIS
Build XinDesk for Windows x64: llama-cpp-python for one backend, the PyInstaller folder, then
an Inno Setup installer.

.DESCRIPTION
    installers\windows\build.ps1 [-Variant cuda|cpu] [-SkipLlama]

Run it from a virtual environment where `pip install -e ".[package]"` (or ".[dev]") is done.
Needs Visual Studio 2022 (or its Build Tools) with the C++ workload; the script enters its
developer shell when cl.exe is not on PATH. The cuda variant needs the CUDA Toolkit 12.8+
(CUDA_PATH set, nvcc on PATH). The installer needs Inno Setup 6 (ISCC.exe); without it the folder
is packed as a .zip instead.

The CUDA runtime (cudart, cublas, cublasLt) is copied from the toolkit into the bundle, next to
ggml-cuda.dll, so users need only the NVIDIA driver. The driver (nvcuda.dll) is never shipped:
without it the app runs on the CPU, and the installer says so.

Environment: PYTHON, LLAMA_CPP_PYTHON_VERSION, XINDESK_DIST_DIR, XINDESK_WORK_DIR,
XINDESK_OUT_DIR, as in installers/linux/build.sh.
#>
param(
    [ValidateSet("cuda", "cpu")]
    [string]$Variant = "cuda",
    [switch]$SkipLlama
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

function Step([string]$Message) { Write-Host "`n==> $Message" }

# Native programs report failure through their exit code, which PowerShell does not check.
function Invoke-Native {
    $command, $arguments = $args
    & $command @arguments
    if ($LASTEXITCODE -ne 0) { throw "$command failed with exit code $LASTEXITCODE" }
}

# The same, returning what the program printed, trimmed.
function Read-Native {
    $command, $arguments = $args
    $output = & $command @arguments
    if ($LASTEXITCODE -ne 0) { throw "$command $arguments failed with exit code $LASTEXITCODE" }
    return ($output -join "`n").Trim()
}

$Repo = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Repo
$Python = if ($env:PYTHON) { $env:PYTHON } else { "python" }
$DistDir = if ($env:XINDESK_DIST_DIR) { $env:XINDESK_DIST_DIR } else { Join-Path $Repo "dist" }
$WorkDir = if ($env:XINDESK_WORK_DIR) { $env:XINDESK_WORK_DIR } else { Join-Path $Repo "build" }
$OutDir = if ($env:XINDESK_OUT_DIR) { $env:XINDESK_OUT_DIR } else { Join-Path $Repo "out" }

$Version = Read-Native $Python -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])"
$Name = "XinDesk-$Version-windows-x64-$Variant"
$CmakeArgs = Read-Native $Python installers/cmake_args.py $Variant --platform windows

# --- 1. llama-cpp-python, compiled for this backend -------------------------------------------
if ($SkipLlama) {
    Step "llama-cpp-python: freezing the installed build (-SkipLlama)"
    $RecordedArgs = ""
}
else {
    if (-not (Get-Command cl.exe -ErrorAction SilentlyContinue)) {
        # Enter Visual Studio's x64 developer shell: MSVC, the Windows SDK and Ninja.
        $VsWhere = Join-Path ${env:ProgramFiles(x86)} "Microsoft Visual Studio\Installer\vswhere.exe"
        $VsPath = & $VsWhere -latest -products * -requires Microsoft.VisualStudio.Component.VC.Tools.x86.x64 -property installationPath
        if (-not $VsPath) { throw "Visual Studio 2022 with the C++ workload is needed to compile llama.cpp" }
        Import-Module (Join-Path $VsPath "Common7\Tools\Microsoft.VisualStudio.DevShell.dll")
        Enter-VsDevShell -VsInstallPath $VsPath -SkipAutomaticLocation -DevCmdArguments "-arch=x64 -host_arch=x64"
        Set-Location $Repo
    }
    if ($Variant -eq "cuda" -and -not (Get-Command nvcc.exe -ErrorAction SilentlyContinue)) {
        throw "nvcc not found: install the CUDA Toolkit 12.8+ (it sets CUDA_PATH and PATH)"
    }
    $LlamaVersion = if ($env:LLAMA_CPP_PYTHON_VERSION) { $env:LLAMA_CPP_PYTHON_VERSION } else {
        Read-Native $Python -c "from importlib.metadata import version; print(version('llama-cpp-python'))"
    }
    Step "llama-cpp-python $LlamaVersion for ${Variant}: CMAKE_ARGS=$CmakeArgs"
    # Ninja in the MSVC developer shell: the Visual Studio generator would also need the CUDA
    # MSBuild integration, and builds more slowly.
    $env:CMAKE_GENERATOR = "Ninja"
    $env:CMAKE_ARGS = $CmakeArgs
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could return an older build.
    Invoke-Native $Python -m pip install --force-reinstall --no-deps --no-cache-dir `
        --no-binary llama-cpp-python "llama-cpp-python==$LlamaVersion"
    Remove-Item Env:CMAKE_ARGS, Env:CMAKE_GENERATOR
    $RecordedArgs = $CmakeArgs
}
Invoke-Native $Python installers/cmake_args.py $Variant --verify-installed

# --- 2. The PyInstaller folder -----------------------------------------------------------------
if ($Variant -eq "cuda") {
    # build.spec copies cudart64_*, cublas64_* and cublasLt64_* from here into the bundle.
    # CUDA 12 keeps them in bin\, CUDA 13 in bin\x64\.
    if (-not $env:CUDA_PATH) { throw "CUDA_PATH is not set: install the CUDA Toolkit 12.8+" }
    $RuntimeDir = @("bin", "bin\x64") | ForEach-Object { Join-Path $env:CUDA_PATH $_ } |
        Where-Object { Test-Path (Join-Path $_ "cublas64_*.dll") } | Select-Object -First 1
    if (-not $RuntimeDir) { throw "no cublas64_*.dll under $env:CUDA_PATH\bin: is cuBLAS installed?" }
    $env:XINDESK_CUDA_RUNTIME_DIR = $RuntimeDir
}
Step "PyInstaller: $DistDir\XinDesk"
$env:XINDESK_VARIANT = $Variant
$env:XINDESK_CMAKE_ARGS = $RecordedArgs
Invoke-Native $Python -m PyInstaller --noconfirm --clean --distpath $DistDir --workpath $WorkDir build.spec
$AppDir = Join-Path $DistDir "XinDesk"
foreach ($Exe in "XinDesk.exe", "xindesk-cli.exe") {
    if (-not (Test-Path (Join-Path $AppDir $Exe))) { throw "PyInstaller made no $AppDir\$Exe" }
}
if ($Variant -eq "cuda" -and -not (Get-ChildItem $AppDir -Recurse -Filter "cublas64_*.dll")) {
    throw "the CUDA runtime is not in the bundle (XINDESK_CUDA_RUNTIME_DIR=$env:XINDESK_CUDA_RUNTIME_DIR)"
}

# --- 3. The installer (a .zip of the folder when Inno Setup is missing) --------------------------
New-Item -ItemType Directory -Force $OutDir | Out-Null
$Iscc = Get-Command ISCC.exe -ErrorAction SilentlyContinue | Select-Object -ExpandProperty Source
if (-not $Iscc) {
    $Iscc = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe") |
        Where-Object { Test-Path $_ } | Select-Object -First 1
}
if ($Iscc) {
    Step "Inno Setup: $OutDir\$Name.exe"
    Invoke-Native $Iscc "/DAppVersion=$Version" "/DVariant=$Variant" "/DSourceDir=$AppDir" `
        "/DOutputName=$Name" "/O$OutDir" installers\windows\xindesk.iss
}
else {
    $Zip = Join-Path $OutDir "$Name.zip"
    Step "installer skipped: Inno Setup 6 (ISCC.exe) not found (https://jrsoftware.org/isinfo.php); zip: $Zip"
    Compress-Archive -Path $AppDir -DestinationPath $Zip -Force
}

Step "Sizes"
$FolderBytes = (Get-ChildItem $AppDir -Recurse -File | Measure-Object -Property Length -Sum).Sum
Write-Host ("{0,8:N0} MiB  {1}" -f ($FolderBytes / 1MB), $AppDir)
Get-ChildItem $OutDir -Filter "$Name.*" | ForEach-Object {
    Write-Host ("{0,8:N0} MiB  {1}" -f ($_.Length / 1MB), $_.FullName)
}
