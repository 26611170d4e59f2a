; Inno Setup 6 script for XinDesk: a per-user install (no administrator rights) of the
; PyInstaller folder dist\XinDesk. installers\windows\build.ps1 compiles it:
;
;   ISCC /DAppVersion=0.1.0 /DVariant=cuda /DSourceDir=...\dist\XinDesk /O...\out xindesk.iss
;
; The CUDA variant ships the CUDA runtime but never the NVIDIA driver (nvcuda.dll): when the
; driver is missing the installer says that XinDesk will run on the CPU, and how to get it.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=x.y.z
#endif
#ifndef Variant
  #define Variant "cuda"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\XinDesk"
#endif
#ifndef OutputName
  #define OutputName "XinDesk-" + AppVersion + "-windows-x64-" + Variant
#endif

[Setup]
; The AppId ties upgrades and the uninstaller together: never change it.
AppId={{35E6F63B-DA8B-4D35-A074-4BE379CED0AE}
AppName=XinDesk
AppVersion={#AppVersion}
AppVerName=XinDesk {#AppVersion} ({#Variant})
AppPublisher=XinDesk
; Per user: {autopf} is %LOCALAPPDATA%\Programs without administrator rights.
PrivilegesRequired=lowest
DefaultDirName={autopf}\XinDesk
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\out
OutputBaseFilename={#OutputName}
SetupIconFile=..\..\resources\icons\xindesk.ico
UninstallDisplayIcon={app}\XinDesk.exe
UninstallDisplayName=XinDesk
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Ask a running XinDesk to close before files are replaced.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\XinDesk"; Filename: "{app}\XinDesk.exe"
Name: "{autodesktop}\XinDesk"; Filename: "{app}\XinDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\XinDesk.exe"; Description: "{cm:LaunchProgram,XinDesk}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; The server keeps running in the tray after the window closes (xindesk-cli.exe and its model
; workers): stop this user's copies so that their files can be removed. Models and settings
; live in the user's data folder and are kept.
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM XinDesk.exe"; Flags: runhidden; RunOnceId: "StopWindow"
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM xindesk-cli.exe"; Flags: runhidden; RunOnceId: "StopServer"

[CustomMessages]
english.NoNvidiaDriver=This is the NVIDIA (CUDA) build of XinDesk, but no NVIDIA driver was found on this computer (nvcuda.dll is missing).%n%nXinDesk will still work: it runs models on the CPU. To use an NVIDIA graphics card, install its driver (version 528 or newer) from https://www.nvidia.com/Download/index.aspx and restart XinDesk.%n%nContinue the installation?

#if Variant == "cuda"
[Code]
// The CUDA runtime is in the bundle; only the driver has to come from the system.
function InitializeSetup(): Boolean;
begin
  Result := True;
  if not FileExists(ExpandConstant('{sys}\nvcuda.dll')) then
    Result := SuppressibleMsgBox(CustomMessage('NoNvidiaDriver'), mbInformation, MB_YESNO, IDYES) = IDYES;
end;
#endif
